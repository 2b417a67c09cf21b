/**
 * Aho-Corasick over tokens: finds every occurrence of many token sequences in one pass over a text, in time
 * linear in the text plus the matches, whatever the number of patterns. Tokens are interned to integers;
 * a text token that no pattern uses sends the automaton back to the root at once.
 */
export class TokenAutomaton {
  private readonly vocab = new Map<string, number>();
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  /** Patterns ending exactly at this node. */
  private readonly out: number[][] = [[]];
  /** Nearest node on the failure chain that ends a pattern (-1: none): outputs without walking the chain. */
  private readonly dict: number[] = [-1];
  private built = false;

  /** Adds a pattern (non-empty token list) under the id the caller chooses. */
  add(tokens: readonly string[], id: number): void {
    if (this.built) throw new Error('TokenAutomaton: add() after the first search');
    if (tokens.length === 0) return;
    let node = 0;
    for (const tok of tokens) {
      let sym = this.vocab.get(tok);
      if (sym === undefined) {
        sym = this.vocab.size;
        this.vocab.set(tok, sym);
      }
      const edges = this.next[node] as Map<number, number>;
      let child = edges.get(sym);
      if (child === undefined) {
        child = this.next.length;
        this.next.push(new Map());
        this.fail.push(0);
        this.out.push([]);
        this.dict.push(-1);
        edges.set(sym, child);
      }
      node = child;
    }
    (this.out[node] as number[]).push(id);
  }

  /** Breadth-first failure links, once, before the first search. */
  private build(): void {
    const queue: number[] = [];
    for (const child of (this.next[0] as Map<number, number>).values()) queue.push(child);
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head] as number;
      for (const [sym, child] of this.next[node] as Map<number, number>) {
        let f = this.fail[node] as number;
        while (f !== 0 && !(this.next[f] as Map<number, number>).has(sym)) f = this.fail[f] as number;
        const target = (this.next[f] as Map<number, number>).get(sym);
        const fc = target !== undefined && target !== child ? target : 0;
        this.fail[child] = fc;
        this.dict[child] = (this.out[fc] as number[]).length > 0 ? fc : (this.dict[fc] as number);
        queue.push(child);
      }
    }
    this.built = true;
  }

  /** Calls `onMatch(id, endTokenIndex)` for every occurrence of every pattern in `tokens`. */
  search(tokens: readonly string[], onMatch: (id: number, end: number) => void): void {
    if (!this.built) this.build();
    let node = 0;
    for (let i = 0; i < tokens.length; i++) {
      const sym = this.vocab.get(tokens[i] as string);
      if (sym === undefined) {
        node = 0;
        continue;
      }
      while (node !== 0 && !(this.next[node] as Map<number, number>).has(sym))
        node = this.fail[node] as number;
      node = (this.next[node] as Map<number, number>).get(sym) ?? 0;
      for (let m = node; m !== -1 && m !== 0; m = this.dict[m] as number) {
        for (const id of this.out[m] as number[]) onMatch(id, i);
      }
    }
  }
}
