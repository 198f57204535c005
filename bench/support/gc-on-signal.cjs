// Preloaded into a service by a bench (NODE_OPTIONS="--expose-gc --require <this file>"): a full
// garbage collection on SIGUSR2, so memory is read as live data, not as garbage not yet collected.
process.on('SIGUSR2', () => global.gc());
