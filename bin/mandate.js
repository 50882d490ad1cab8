#!/usr/bin/env node
// The `mandate` command: runs the TypeScript CLI through tsx's require hook (no build step).
require('tsx/cjs/api').register();
require('../cli/main.ts').run();
