// Preloaded into a measured child process: reports its peak resident memory when it exits.
process.on('exit', () => {
  process.stderr.write(`MAXRSS_KB ${process.resourceUsage().maxRSS}\n`);
});
