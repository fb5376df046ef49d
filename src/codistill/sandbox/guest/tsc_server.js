"use strict";
// codistill's TypeScript compile server: node tsc_server.js TYPESCRIPT_PACKAGE_DIR
//
// Reads one JSON request per line on stdin: {"args": [tsc command-line arguments], "files":
// {name: text}} and answers one JSON line on stdout: {"ok", "diagnostics", "outputs": {name:
// text}}. It type-checks and emits exactly as `tsc ARGS` would in a directory holding FILES,
// but keeps the parsed library declaration files between requests (parsing lib.*.d.ts is most
// of tsc's time). Sources and outputs never touch the disk; the server writes nothing.

const ts = require(process.argv[2]);
const readline = require("readline");

const ROOT = "/codistill-build";
const libraries = new Map();

function compile(request) {
  const parsed = ts.parseCommandLine(request.args);
  const format = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => "\n",
  };
  if (parsed.errors.length) {
    return { ok: false, diagnostics: ts.formatDiagnostics(parsed.errors, format), outputs: {} };
  }
  const options = parsed.options;
  const sources = new Map(Object.entries(request.files).map(([n, t]) => [`${ROOT}/${n}`, t]));
  const outputs = {};
  const host = ts.createCompilerHost(options);
  const original = host.getSourceFile.bind(host);
  host.getCurrentDirectory = () => ROOT;
  host.fileExists = (name) => sources.has(name) || ts.sys.fileExists(name);
  host.readFile = (name) => (sources.has(name) ? sources.get(name) : ts.sys.readFile(name));
  host.writeFile = (name, text) => {
    outputs[name.startsWith(ROOT + "/") ? name.slice(ROOT.length + 1) : name] = text;
  };
  host.getSourceFile = (name, version, onError, fresh) => {
    if (sources.has(name)) return ts.createSourceFile(name, sources.get(name), version, true);
    const key = `${name}|${JSON.stringify(version)}`;
    if (!libraries.has(key)) libraries.set(key, original(name, version, onError, fresh));
    return libraries.get(key);
  };
  const files = parsed.fileNames.map((name) => (name.startsWith("/") ? name : `${ROOT}/${name}`));
  const program = ts.createProgram(files, options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  let emitted = { diagnostics: [] };
  if (!(errors.length && options.noEmitOnError)) emitted = program.emit();
  const all = diagnostics.concat(emitted.diagnostics);
  const failed = all.some((d) => d.category === ts.DiagnosticCategory.Error);
  return { ok: !failed, diagnostics: ts.formatDiagnostics(all, format), outputs };
}

const input = readline.createInterface({ input: process.stdin, terminal: false });
process.stdout.write(JSON.stringify({ ready: true, version: ts.version }) + "\n");
input.on("line", (line) => {
  let answer;
  try {
    answer = compile(JSON.parse(line));
  } catch (error) {
    answer = { ok: false, diagnostics: `compile server error: ${error && error.stack}`,
               outputs: {}, crashed: true };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
