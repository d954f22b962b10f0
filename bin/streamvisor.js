#!/usr/bin/env node
// The `streamvisor` command: the compiled CLI (run `npm run build` first when working from a checkout).
import '../dist/cli/main.js';
