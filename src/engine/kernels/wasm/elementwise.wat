;; The exp-heavy element-wise training kernels of the ts kernels on WebAssembly SIMD (wasm-elementwise.ts
;; copies operands in and results out; types.ts ElementwiseKernels has their contracts). Pointers are in
;; bytes, into this module's memory. Element loops run whole f32x4 vectors: where a count is not a multiple
;; of 4 the caller leaves room for the last vector, and row kernels blend the lanes past a row's end back
;; to what was there, so the next row is intact. Assembled by scripts/build-wasm.ts.
(module
  (memory (export "memory") 1)

  ;; e^x per lane, Cephes expf: x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, times 2^n
  ;; built in the exponent bits (relative error about 1e-7). x is clamped to [-88, 88.7] first: there n
  ;; reaches -127 or 128, whose exponent fields are 0 and 255, so the result is exactly 0 below about -87.7
  ;; (-Infinity included) and +Infinity above about 88.4 (1/(1+e^-x) is then 0, never NaN); NaN stays NaN.
  (func $exp (param $x v128) (result v128)
    (local $t v128) (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.pmax
      (f32x4.pmin (local.get $x) (v128.const f32x4 88.7 88.7 88.7 88.7))
      (v128.const f32x4 -88 -88 -88 -88)))
    ;; n = round(x / ln2): adding 1.5·2^23 rounds to an integer, which then sits in the low mantissa bits.
    (local.set $t (f32x4.add
      (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))
      (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $n (f32x4.sub (local.get $t) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    ;; r = x - n·ln2 in two steps (ln2 = 0.693359375 - 2.12194440e-4, the first part exact in few bits).
    (local.set $r (f32x4.sub (local.get $x)
      (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r)
      (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (f32x4.add (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)
      (f32x4.mul (local.get $r) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))))
    (local.set $p (f32x4.add (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)
      (f32x4.mul (local.get $p) (local.get $r))))
    (local.set $p (f32x4.add (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)
      (f32x4.mul (local.get $p) (local.get $r))))
    (local.set $p (f32x4.add (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)
      (f32x4.mul (local.get $p) (local.get $r))))
    (local.set $p (f32x4.add (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)
      (f32x4.mul (local.get $p) (local.get $r))))
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (v128.const f32x4 1 1 1 1)))
    ;; 2^n: (n + 127) << 23, taken from t's low bits (the shift drops the 1.5·2^23 above them).
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (local.get $t) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; All-ones in the first `lanes` lanes (0..4), for the last, partial vector of a row.
  (func $mask (param $lanes i32) (result v128)
    (i32x4.lt_s (v128.const i32x4 0 1 2 3) (i32x4.splat (local.get $lanes))))

  ;; Lane sum of an f32x4 added, in f64, to the f64x2 accumulator.
  (func $addF64 (param $acc v128) (param $v v128) (result v128)
    (f64x2.add
      (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (local.get $v)))
      (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))

  (func $hsum (param $acc v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))

  ;; out = gate · σ(gate) · up over n floats (rounded up to whole vectors).
  (func (export "swigluForward") (param $gate i32) (param $up i32) (param $out i32) (param $n i32)
    (local $end i32) (local $x v128)
    (local.set $end (i32.add (local.get $gate) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $gate) (local.get $end)))
      (local.set $x (v128.load (local.get $gate)))
      (v128.store (local.get $out)
        (f32x4.div (f32x4.mul (local.get $x) (v128.load (local.get $up)))
          (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp (f32x4.neg (local.get $x))))))
      (local.set $gate (i32.add (local.get $gate) (i32.const 16)))
      (local.set $up (i32.add (local.get $up) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $next))))

  ;; dup += dy · gate · σ; dgate += dy · up · σ · (1 + gate · (1 − σ)). `which`: 1 dgate, 2 dup, 3 both.
  (func (export "swigluBackward")
    (param $gate i32) (param $up i32) (param $dy i32) (param $dgate i32) (param $dup i32) (param $n i32)
    (param $which i32)
    (local $end i32) (local $x v128) (local $sig v128) (local $g v128)
    (local.set $end (i32.add (local.get $gate) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $gate) (local.get $end)))
      (local.set $x (v128.load (local.get $gate)))
      (local.set $sig (f32x4.div (v128.const f32x4 1 1 1 1)
        (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp (f32x4.neg (local.get $x))))))
      (local.set $g (v128.load (local.get $dy)))
      (if (i32.and (local.get $which) (i32.const 2))
        (then
          (v128.store (local.get $dup) (f32x4.add (v128.load (local.get $dup))
            (f32x4.mul (local.get $g) (f32x4.mul (local.get $x) (local.get $sig)))))))
      (if (i32.and (local.get $which) (i32.const 1))
        (then
          (v128.store (local.get $dgate) (f32x4.add (v128.load (local.get $dgate))
            (f32x4.mul (f32x4.mul (local.get $g) (v128.load (local.get $up)))
              (f32x4.mul (local.get $sig)
                (f32x4.add (v128.const f32x4 1 1 1 1)
                  (f32x4.mul (local.get $x) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $sig))))))))))
      (local.set $gate (i32.add (local.get $gate) (i32.const 16)))
      (local.set $up (i32.add (local.get $up) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $dgate (i32.add (local.get $dgate) (i32.const 16)))
      (local.set $dup (i32.add (local.get $dup) (i32.const 16)))
      (br $next))))

  ;; max of the n floats at p (n >= 1); two accumulators, so the loop is not one long dependency chain.
  (func $rowMax (param $p i32) (param $n i32) (result f32)
    (local $end i32) (local $a v128) (local $b v128) (local $rest i32)
    (local.set $a (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $b (local.get $a))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $a (f32x4.pmax (local.get $a) (v128.load (local.get $p))))
      (local.set $b (f32x4.pmax (local.get $b) (v128.load offset=16 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 32)))
      (br $next)))
    (local.set $rest (i32.and (local.get $n) (i32.const 7)))
    (if (i32.ge_u (local.get $rest) (i32.const 4))
      (then
        (local.set $a (f32x4.pmax (local.get $a) (v128.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $rest (i32.sub (local.get $rest) (i32.const 4)))))
    (if (local.get $rest)
      (then
        (local.set $b (f32x4.pmax (local.get $b)
          (v128.bitselect (v128.load (local.get $p)) (v128.const f32x4 -inf -inf -inf -inf)
            (call $mask (local.get $rest)))))))
    (local.set $a (f32x4.pmax (local.get $a) (local.get $b)))
    (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
      (f32.max (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))

  ;; Σ e^(x − max) over the n floats at p, in f64; when `store`, each e^(x − max) replaces x.
  (func $rowExp (param $p i32) (param $n i32) (param $max f32) (param $store i32) (result f64)
    (local $end i32) (local $m v128) (local $e v128) (local $sum v128) (local $lanes v128) (local $rest i32)
    (local.set $m (f32x4.splat (local.get $max)))
    (local.set $sum (v128.const f64x2 0 0))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $e (call $exp (f32x4.sub (v128.load (local.get $p)) (local.get $m))))
      (if (local.get $store) (then (v128.store (local.get $p) (local.get $e))))
      (local.set $sum (call $addF64 (local.get $sum) (local.get $e)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $next)))
    (local.set $rest (i32.and (local.get $n) (i32.const 3)))
    (if (local.get $rest)
      (then
        (local.set $lanes (call $mask (local.get $rest)))
        (local.set $e (v128.and (local.get $lanes)
          (call $exp (f32x4.sub (v128.load (local.get $p)) (local.get $m)))))
        (if (local.get $store)
          (then (v128.store (local.get $p)
            (v128.bitselect (local.get $e) (v128.load (local.get $p)) (local.get $lanes)))))
        (local.set $sum (call $addF64 (local.get $sum) (local.get $e)))))
    (call $hsum (local.get $sum)))

  ;; The n floats at p times s.
  (func $rowScale (param $p i32) (param $n i32) (param $s f32)
    (local $end i32) (local $v v128) (local $rest i32)
    (local.set $v (f32x4.splat (local.get $s)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (v128.store (local.get $p) (f32x4.mul (v128.load (local.get $p)) (local.get $v)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $next)))
    (local.set $rest (i32.and (local.get $n) (i32.const 3)))
    (if (local.get $rest)
      (then (v128.store (local.get $p)
        (v128.bitselect (f32x4.mul (v128.load (local.get $p)) (local.get $v)) (v128.load (local.get $p))
          (call $mask (local.get $rest)))))))

  ;; Per counted row r of logits [rows, vocab] (targets[r] ≠ ignore): stats[2r] = max, stats[2r+1] = Σ e^(x − max)
  ;; (f64), from which the caller forms max + ln Σ − x[target]. With `probs` the row becomes its softmax in place.
  (func (export "crossEntropyForward")
    (param $logits i32) (param $targets i32) (param $stats i32) (param $rows i32) (param $vocab i32)
    (param $ignore i32) (param $probs i32)
    (local $r i32) (local $max f32) (local $sum f64) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $vocab) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (if (i32.ne (i32.load (local.get $targets)) (local.get $ignore))
        (then
          (local.set $max (call $rowMax (local.get $logits) (local.get $vocab)))
          (local.set $sum (call $rowExp (local.get $logits) (local.get $vocab) (local.get $max) (local.get $probs)))
          (if (local.get $probs)
            (then (call $rowScale (local.get $logits) (local.get $vocab)
              (f32.demote_f64 (f64.div (f64.const 1) (local.get $sum))))))
          (f64.store (local.get $stats) (f64.promote_f32 (local.get $max)))
          (f64.store offset=8 (local.get $stats) (local.get $sum))))
      (local.set $logits (i32.add (local.get $logits) (local.get $rowBytes)))
      (local.set $targets (i32.add (local.get $targets) (i32.const 4)))
      (local.set $stats (i32.add (local.get $stats) (i32.const 16)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $next))))

  ;; dlogits += g · (probs − onehot(target)) on the counted rows.
  (func (export "crossEntropyBackward")
    (param $probs i32) (param $targets i32) (param $dl i32) (param $rows i32) (param $vocab i32) (param $g f32)
    (param $ignore i32)
    (local $r i32) (local $t i32) (local $gv v128) (local $p i32) (local $d i32) (local $end i32)
    (local $rest i32) (local $rowBytes i32) (local $at i32)
    (local.set $gv (f32x4.splat (local.get $g)))
    (local.set $rowBytes (i32.shl (local.get $vocab) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $t (i32.load (local.get $targets)))
      (if (i32.ne (local.get $t) (local.get $ignore))
        (then
          (local.set $p (local.get $probs))
          (local.set $d (local.get $dl))
          (local.set $end (i32.add (local.get $d) (i32.and (local.get $rowBytes) (i32.const -16))))
          (block $rowDone (loop $col
            (br_if $rowDone (i32.ge_u (local.get $d) (local.get $end)))
            (v128.store (local.get $d)
              (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $gv) (v128.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $col)))
          (local.set $rest (i32.and (local.get $vocab) (i32.const 3)))
          (if (local.get $rest)
            (then (v128.store (local.get $d)
              (v128.bitselect
                (f32x4.add (v128.load (local.get $d)) (f32x4.mul (local.get $gv) (v128.load (local.get $p))))
                (v128.load (local.get $d))
                (call $mask (local.get $rest))))))
          (local.set $at (i32.add (local.get $dl) (i32.shl (local.get $t) (i32.const 2))))
          (f32.store (local.get $at) (f32.sub (f32.load (local.get $at)) (local.get $g)))))
      (local.set $probs (i32.add (local.get $probs) (local.get $rowBytes)))
      (local.set $dl (i32.add (local.get $dl) (local.get $rowBytes)))
      (local.set $targets (i32.add (local.get $targets) (i32.const 4)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $next))))

  ;; In place over `blocks` T×T blocks at P: row t is the softmax of its columns 0..t, then zeros.
  (func (export "causalSoftmax") (param $P i32) (param $blocks i32) (param $T i32)
    (local $t i32) (local $end i32) (local $n i32) (local $max f32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $T) (i32.const 2)))
    (local.set $end (i32.add (local.get $P)
      (i32.mul (i32.mul (local.get $blocks) (local.get $T)) (local.get $rowBytes))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $P) (local.get $end)))
      (local.set $n (i32.add (local.get $t) (i32.const 1)))
      (local.set $max (call $rowMax (local.get $P) (local.get $n)))
      (call $rowScale (local.get $P) (local.get $n)
        (f32.demote_f64 (f64.div (f64.const 1)
          (call $rowExp (local.get $P) (local.get $n) (local.get $max) (i32.const 1)))))
      (memory.fill (i32.add (local.get $P) (i32.shl (local.get $n) (i32.const 2))) (i32.const 0)
        (i32.shl (i32.sub (local.get $T) (local.get $n)) (i32.const 2)))
      (local.set $t (select (i32.const 0) (local.get $n) (i32.eq (local.get $n) (local.get $T))))
      (local.set $P (i32.add (local.get $P) (local.get $rowBytes)))
      (br $next))))

  ;; In place on the blocks of dS (holding dP): dS = P ⊙ (dP − Σ_row P ⊙ dP) · scale, upper triangle 0.
  (func (export "causalSoftmaxBackward")
    (param $P i32) (param $dS i32) (param $blocks i32) (param $T i32) (param $scale f32)
    (local $t i32) (local $end i32) (local $n i32) (local $rowBytes i32) (local $p i32) (local $d i32)
    (local $rowEnd i32) (local $acc v128) (local $w v128) (local $s v128) (local $lanes v128) (local $rest i32)
    (local.set $s (f32x4.splat (local.get $scale)))
    (local.set $rowBytes (i32.shl (local.get $T) (i32.const 2)))
    (local.set $end (i32.add (local.get $dS)
      (i32.mul (i32.mul (local.get $blocks) (local.get $T)) (local.get $rowBytes))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $dS) (local.get $end)))
      (local.set $n (i32.add (local.get $t) (i32.const 1)))
      (local.set $rest (i32.and (local.get $n) (i32.const 3)))
      (local.set $lanes (call $mask (local.get $rest)))
      (local.set $rowEnd (i32.add (local.get $dS) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
      ;; w = Σ P·dP, in f64.
      (local.set $acc (v128.const f64x2 0 0))
      (local.set $p (local.get $P))
      (local.set $d (local.get $dS))
      (block $sumDone (loop $sum
        (br_if $sumDone (i32.ge_u (local.get $d) (local.get $rowEnd)))
        (local.set $acc (call $addF64 (local.get $acc)
          (f32x4.mul (v128.load (local.get $p)) (v128.load (local.get $d)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $sum)))
      (if (local.get $rest)
        (then (local.set $acc (call $addF64 (local.get $acc)
          (v128.and (local.get $lanes) (f32x4.mul (v128.load (local.get $p)) (v128.load (local.get $d))))))))
      (local.set $w (f32x4.splat (f32.demote_f64 (call $hsum (local.get $acc)))))
      ;; dS = P · (dP − w) · scale.
      (local.set $p (local.get $P))
      (local.set $d (local.get $dS))
      (block $rowDone (loop $col
        (br_if $rowDone (i32.ge_u (local.get $d) (local.get $rowEnd)))
        (v128.store (local.get $d) (f32x4.mul (f32x4.mul (v128.load (local.get $p))
          (f32x4.sub (v128.load (local.get $d)) (local.get $w))) (local.get $s)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $col)))
      (if (local.get $rest)
        (then (v128.store (local.get $d)
          (v128.bitselect
            (f32x4.mul (f32x4.mul (v128.load (local.get $p)) (f32x4.sub (v128.load (local.get $d)) (local.get $w)))
              (local.get $s))
            (v128.load (local.get $d))
            (local.get $lanes)))))
      (memory.fill (i32.add (local.get $dS) (i32.shl (local.get $n) (i32.const 2))) (i32.const 0)
        (i32.shl (i32.sub (local.get $T) (local.get $n)) (i32.const 2)))
      (local.set $t (select (i32.const 0) (local.get $n) (i32.eq (local.get $n) (local.get $T))))
      (local.set $P (i32.add (local.get $P) (local.get $rowBytes)))
      (local.set $dS (i32.add (local.get $dS) (local.get $rowBytes)))
      (br $next))))

  ;; ---- Row kernels that need cols (or headDim / 2) a multiple of 4; wasm-elementwise.ts checks. ----

  ;; Per row of x [rows, cols]: rstd = 1/sqrt(mean(x²) + eps) (the mean in f64); out = x · rstd · g.
  (func (export "rmsnormForward")
    (param $x i32) (param $g i32) (param $out i32) (param $rstd i32) (param $rows i32) (param $cols i32)
    (param $eps f64)
    (local $end i32) (local $p i32) (local $q i32) (local $gp i32) (local $v v128) (local $acc v128)
    (local $s f32) (local $sv v128) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $acc (v128.const f64x2 0 0))
      (local.set $p (local.get $x))
      (local.set $q (i32.add (local.get $x) (local.get $rowBytes)))
      (block $sumDone (loop $sum
        (br_if $sumDone (i32.ge_u (local.get $p) (local.get $q)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $acc (call $addF64 (local.get $acc) (f32x4.mul (local.get $v) (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $sum)))
      (local.set $s (f32.demote_f64 (f64.div (f64.const 1) (f64.sqrt (f64.add (local.get $eps)
        (f64.div (call $hsum (local.get $acc)) (f64.convert_i32_u (local.get $cols))))))))
      (f32.store (local.get $rstd) (local.get $s))
      (local.set $sv (f32x4.splat (local.get $s)))
      (local.set $p (local.get $x))
      (local.set $gp (local.get $g))
      (block $rowDone (loop $col
        (br_if $rowDone (i32.ge_u (local.get $p) (local.get $q)))
        (v128.store (local.get $out)
          (f32x4.mul (f32x4.mul (v128.load (local.get $p)) (local.get $sv)) (v128.load (local.get $gp))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $gp (i32.add (local.get $gp) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $col)))
      (local.set $x (local.get $q))
      (local.set $rstd (i32.add (local.get $rstd) (i32.const 4)))
      (br $next))))

  ;; The rmsnorm backward: with xhat = x · rstd and dxhat = dy · g, dg += dy · xhat and
  ;; dx += rstd · (dxhat − xhat · mean(dxhat · xhat)) (the mean in f64). `which`: 1 dx, 2 dg, 3 both.
  (func (export "rmsnormBackward")
    (param $x i32) (param $g i32) (param $rstd i32) (param $dy i32) (param $dx i32) (param $dg i32)
    (param $rows i32) (param $cols i32) (param $which i32)
    (local $end i32) (local $rowBytes i32) (local $h i32) (local $sv v128) (local $mv v128) (local $acc v128)
    (local $xhat v128) (local $dxhat v128) (local $d v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $sv (v128.load32_splat (local.get $rstd)))
      (local.set $acc (v128.const f64x2 0 0))
      (local.set $h (i32.const 0))
      (block $sumDone (loop $sum
        (br_if $sumDone (i32.ge_u (local.get $h) (local.get $rowBytes)))
        (local.set $d (v128.load (i32.add (local.get $dy) (local.get $h))))
        (local.set $xhat (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $h))) (local.get $sv)))
        (local.set $dxhat (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $g) (local.get $h)))))
        (local.set $acc (call $addF64 (local.get $acc) (f32x4.mul (local.get $dxhat) (local.get $xhat))))
        (if (i32.and (local.get $which) (i32.const 2))
          (then (v128.store (i32.add (local.get $dg) (local.get $h))
            (f32x4.add (v128.load (i32.add (local.get $dg) (local.get $h)))
              (f32x4.mul (local.get $d) (local.get $xhat))))))
        (local.set $h (i32.add (local.get $h) (i32.const 16)))
        (br $sum)))
      (if (i32.and (local.get $which) (i32.const 1))
        (then
          (local.set $mv (f32x4.splat (f32.demote_f64
            (f64.div (call $hsum (local.get $acc)) (f64.convert_i32_u (local.get $cols))))))
          (local.set $h (i32.const 0))
          (block $rowDone (loop $col
            (br_if $rowDone (i32.ge_u (local.get $h) (local.get $rowBytes)))
            (local.set $xhat (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $h))) (local.get $sv)))
            (local.set $dxhat (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $h)))
              (v128.load (i32.add (local.get $g) (local.get $h)))))
            (v128.store (i32.add (local.get $dx) (local.get $h))
              (f32x4.add (v128.load (i32.add (local.get $dx) (local.get $h)))
                (f32x4.mul (local.get $sv)
                  (f32x4.sub (local.get $dxhat) (f32x4.mul (local.get $xhat) (local.get $mv))))))
            (local.set $h (i32.add (local.get $h) (i32.const 16)))
            (br $col)))))
      (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
      (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
      (local.set $dx (i32.add (local.get $dx) (local.get $rowBytes)))
      (local.set $rstd (i32.add (local.get $rstd) (i32.const 4)))
      (br $next))))

  ;; Rotate-half rotary embedding of src [rows, heads · 2 · half] into dst (dst may be src), or added to it
  ;; when `accumulate`; row r has position (pos + r) mod seqLen, cos and sin are [positions, half].
  (func (export "rope")
    (param $src i32) (param $dst i32) (param $rows i32) (param $heads i32) (param $half i32) (param $seqLen i32)
    (param $pos i32) (param $cos i32) (param $sin i32) (param $dir f32) (param $accumulate i32)
    (local $r i32) (local $hd i32) (local $i i32) (local $halfBytes i32) (local $cs i32) (local $sn i32)
    (local $a v128) (local $b v128) (local $c v128) (local $s v128) (local $dv v128) (local $ya v128) (local $yb v128)
    (local $pa i32) (local $da i32)
    (local.set $dv (f32x4.splat (local.get $dir)))
    (local.set $halfBytes (i32.shl (local.get $half) (i32.const 2)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $cs (i32.add (local.get $cos) (i32.mul (local.get $pos) (local.get $halfBytes))))
      (local.set $sn (i32.add (local.get $sin) (i32.mul (local.get $pos) (local.get $halfBytes))))
      (local.set $hd (i32.const 0))
      (block $headsDone (loop $head
        (br_if $headsDone (i32.ge_u (local.get $hd) (local.get $heads)))
        (local.set $i (i32.const 0))
        (block $pairsDone (loop $pair
          (br_if $pairsDone (i32.ge_u (local.get $i) (local.get $halfBytes)))
          (local.set $pa (i32.add (local.get $src) (local.get $i)))
          (local.set $da (i32.add (local.get $dst) (local.get $i)))
          (local.set $a (v128.load (local.get $pa)))
          (local.set $b (v128.load (i32.add (local.get $pa) (local.get $halfBytes))))
          (local.set $c (v128.load (i32.add (local.get $cs) (local.get $i))))
          (local.set $s (f32x4.mul (v128.load (i32.add (local.get $sn) (local.get $i))) (local.get $dv)))
          (local.set $ya (f32x4.sub (f32x4.mul (local.get $a) (local.get $c)) (f32x4.mul (local.get $b) (local.get $s))))
          (local.set $yb (f32x4.add (f32x4.mul (local.get $b) (local.get $c)) (f32x4.mul (local.get $a) (local.get $s))))
          (if (local.get $accumulate)
            (then
              (local.set $ya (f32x4.add (local.get $ya) (v128.load (local.get $da))))
              (local.set $yb (f32x4.add (local.get $yb) (v128.load (i32.add (local.get $da) (local.get $halfBytes)))))))
          (v128.store (local.get $da) (local.get $ya))
          (v128.store (i32.add (local.get $da) (local.get $halfBytes)) (local.get $yb))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $pair)))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $halfBytes) (i32.const 1))))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $halfBytes) (i32.const 1))))
        (local.set $hd (i32.add (local.get $hd) (i32.const 1)))
        (br $head)))
      (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
      (if (i32.eq (local.get $pos) (local.get $seqLen)) (then (local.set $pos (i32.const 0))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $next))))

  ;; out = a + b over n floats (rounded up to whole vectors; out may be a or b).
  (func (export "add") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (v128.store (local.get $out) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $next))))

  ;; dst += alpha · src over n floats (rounded up to whole vectors).
  (func (export "axpy") (param $dst i32) (param $src i32) (param $n i32) (param $alpha f32)
    (local $end i32) (local $av v128)
    (local.set $av (f32x4.splat (local.get $alpha)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (v128.store (local.get $dst)
        (f32x4.add (v128.load (local.get $dst)) (f32x4.mul (v128.load (local.get $src)) (local.get $av))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (br $next))))
)
