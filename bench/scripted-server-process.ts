/**
 * Runs the scripted OpenAI-compatible server in its own process (so it does not share an event loop with
 * the client being measured). Prints `READY <url>` and serves until killed.
 * Usage: node --import tsx bench/scripted-server-process.ts LATENCY_MS
 */
import { startScriptedServer } from '../test/helpers/scripted-server.js';
import { studyResponder } from '../test/helpers/study-responder.js';

const latencyMs = Number(process.argv[2] ?? 0);
const server = await startScriptedServer({ respond: studyResponder, latencyMs, keepLog: false });
process.stdout.write(`READY ${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
