#!/usr/bin/env node
'use strict';
// envctl, the operator CLI: runs cli/main.ts through tsx, so there is no build step.
require('tsx/cjs/api').register();
require('../cli/main.ts')
  .run(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
