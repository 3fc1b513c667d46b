#!/usr/bin/env node
// The `euca` command. Sources are compiled to dist/ by `npm ci` (prepare) and `npm run build`.
import("../dist/src/cli/main.js")
