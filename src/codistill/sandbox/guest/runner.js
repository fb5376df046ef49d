"use strict";
// codistill's JavaScript/TypeScript harness: node runner.js PROGRAM.js (tests|script)
//
// Checks the program's syntax, loads it as a CommonJS module (source then tests), and once the
// event loop has drained, reports on fd 4 with the nonce it reads from fd 3 only then. A
// program that calls process.exit() never reaches the report. Everything the harness uses is
// captured before the program runs, and the shared assert module is frozen so a candidate
// cannot replace deepStrictEqual and friends.

const fs = require("fs");
const vm = require("vm");
const path = require("path");
const util = require("util");
const Module = require("module");
const assert = require("assert");

const readSync = fs.readSync;
const writeSync = fs.writeSync;
const readFileSync = fs.readFileSync;
const inspect = util.inspect;
const stringify = JSON.stringify;
const once = process.once.bind(process);
const freeze = Object.freeze;

const target = path.resolve(process.argv[2]);
const mode = process.argv[3] || "tests";
for (const shared of [assert, assert.strict]) freeze(shared);
// Output to the supervisor's pipes blocks until it is read, as it does in every other language.
// Node writes to pipes asynchronously: past the pipe's 64 KiB, output waits in memory for the
// event loop, so a loop that prints without yielding never reaches the output cap (it ends by
// time or memory, depending on timing) and process.exit() drops whatever is still queued.
for (const stream of [process.stdout, process.stderr]) {
  const handle = stream && stream._handle;
  if (handle && typeof handle.setBlocking === "function") handle.setBlocking(true);
}

function report(status, details) {
  const buffer = Buffer.alloc(256);
  let nonce;
  try {
    const n = readSync(3, buffer, 0, 256, null);
    nonce = buffer.latin1Slice(0, n).trim();
  } catch (error) {
    return;
  }
  let body = "{}";
  try {
    body = stringify(details);
  } catch (error) {
    // details are advisory; the status is what counts
  }
  try {
    writeSync(4, nonce + " " + status + " " + body + "\n");
  } catch (error) {
    // no report simply means "not passed"
  }
}

function programLine(error) {
  const stack = String((error && error.stack) || "");
  const base = path.basename(target).replace(/\.js$/, "");
  const pattern = new RegExp(base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "\\.(?:js|ts):(\\d+)");
  const found = stack.match(pattern);
  return found ? Number(found[1]) : null;
}

function describe(error) {
  const name = (error && error.name) || typeof error;
  const code = error && error.code;
  let status = "runtime_error";
  if (code === "ERR_ASSERTION" || name === "AssertionError") status = "failed";
  else if (code === "MODULE_NOT_FOUND") status = "missing_module";
  else if (error instanceof RangeError && /allocation failed|Invalid (typed )?array length/
    .test(String(error.message))) status = "memory_exceeded";
  let message = "";
  try {
    message = String(error && error.message !== undefined ? error.message : error).slice(0, 2000);
  } catch (e) {
    message = "<unprintable error>";
  }
  return [status, { error_type: code === "ERR_ASSERTION" ? "AssertionError" : name,
                    message, line: programLine(error) }];
}

let source;
try {
  source = readFileSync(target, "utf8");
} catch (error) {
  writeSync(2, "codistill: cannot read " + target + "\n");
  process.exitCode = 127;
  return;
}
try {
  new vm.Script(Module.wrap(source.replace(/^#!.*/, "")), { filename: target });
} catch (error) {
  writeSync(2, inspect(error) + "\n");
  report("compile_error", { error_type: error.name, message: String(error.message),
                            line: programLine(error) });
  process.exitCode = 1;
  return;
}

let loaded = false;
try {
  require(target);
  loaded = true;
} catch (error) {
  try {
    writeSync(2, inspect(error) + "\n");
  } catch (e) {
    // printing is best effort
  }
  const [status, details] = describe(error);
  report(status, details);
  process.exitCode = 1;
}
if (loaded) {
  // The success signal waits for the event loop to drain, so a rejected promise or an error
  // thrown from a timer still fails the run (node exits non-zero without reaching this).
  once("beforeExit", () => report(mode === "tests" ? "passed" : "completed", {}));
}
