'use strict';
// The smallest TAP writer the examples need: "ok - what" or "not ok - what"
// per check, "# ..." for anything worth reading, exit code 1 on a failure.

let failures = 0;

function note(text) {
  for (const line of String(text).split('\n')) console.log(`# ${line}`);
}

function check(what, passed, ...explanation) {
  console.log(`${passed ? 'ok' : 'not ok'} - ${what}`);
  if (!passed) {
    failures += 1;
    explanation.forEach(note);
  }
  return passed;
}

// The error a promise is rejected with, or null when it resolves.
async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return err;
  }
}

// Run an example's main(); an exception is a failed check of its own.
function run(name, main) {
  main()
    .catch((err) => check(`${name} ran to the end`, false, err.stack || err))
    .finally(() => {
      process.exitCode = failures ? 1 : 0;
    });
}

module.exports = { check, note, errorOf, run };
