// The layout of lib/ (docs/architecture.md): each room imports only the rooms
// below it, and no module imports itself back through others.
//
//   tools         doctor, demo, inspect, the outage runner, the CLI
//   integrations  the client helpers, the process-wide mode
//   engine        targets, options, errors: setKeepAlive and friends
//   kernel        the seam and its two ways (the addon, Node's own call)
//
// The kernel may use the engine's error constructors (engine/errors.ts),
// which import nothing of lib/.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path = require('node:path');

const lib = path.join(__dirname, '..', 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) return sources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

// Every relative import and re-export, `import type` included: a circle of
// types is a circle in the design too.
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^;'"]*?from\s+'(\.[^']+)'/g)].map(([, spec]) => {
    const target = path.resolve(path.dirname(file), spec!);
    for (const candidate of [`${target}.ts`, path.join(target, 'index.ts')]) {
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not this one
      }
    }
    throw new Error(`${path.relative(lib, file)} imports '${spec}', which is no module of lib/`);
  });
}

const graph = new Map(sources(lib).map((file) => [file, importsOf(file)]));
const rel = (file: string) => path.relative(lib, file);
const room = (file: string) => rel(file).split(path.sep)[0]!.replace(/\.ts$/, '');

describe('lib/', () => {
  it('has its modules in rooms, with only the public entry point at the top', () => {
    const rooms = new Set([...graph.keys()].map(room));
    expect([...rooms].sort()).toEqual(['engine', 'index', 'integrations', 'kernel', 'tools']);
  });

  it('has no import circle', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file)!) {
        if (state.get(next) === 'open') circles.push(stack.slice(stack.indexOf(next)).concat(next).map(rel).join(' -> '));
        else if (state.get(next) === undefined) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
    expect(circles).toEqual([]);
  });

  it('imports only downwards: tools > integrations > engine > kernel', () => {
    const order = ['kernel', 'engine', 'integrations', 'tools', 'index'];
    // What the kernel may take from the engine: the error constructors, which import nothing of lib/.
    const errorModules = new Set(['engine/errors.ts']);
    const upward: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        const from = order.indexOf(room(file));
        const to = order.indexOf(room(target));
        const allowed = to <= from || (room(file) === 'kernel' && errorModules.has(rel(target).split(path.sep).join('/')));
        if (!allowed) upward.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    for (const module of errorModules) expect(graph.get(path.join(lib, module))).toEqual([]);
    expect(upward).toEqual([]);
  });
});
