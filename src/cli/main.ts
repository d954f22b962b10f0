// The `streamvisor` command's entry: runs the program in ./program.ts on process.argv.
import { exitQuietlyOnClosedPipe, flushOutput } from './output.js';
import { run } from './program.js';

exitQuietlyOnClosedPipe();
const code = await run(process.argv);
await flushOutput();
// Exit explicitly: a command that failed half-way may leave a socket or timer that would hold the process.
process.exit(code);
