/**
 * Cold start: each function's bundle as `cdk synth` builds it for deployment (esbuild, minified), its size, what
 * it is made of (from its own source map), and its module initialisation time in a fresh Node process.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from './support/machine';
import { childEnv, run as runProcess } from './support/processes';
import { kib, ms, summarize, table, type Summary } from './support/stats';
import type { Benchmark, BenchContext, SectionOutput } from './support/types';

const SIZE_GOAL = 300 * 1024;
const INIT_GOAL_MS = 150;

interface Bundle {
  readonly handler: string;
  readonly assetDir: string;
  readonly bytes: number;
  readonly mapBytes: number;
  /** The function's environment variables that are plain strings (NODE_OPTIONS, POWERTOOLS_…). */
  readonly environment: Record<string, string>;
  readonly sdkExternal: boolean;
}

export const benchmark: Benchmark = {
  id: 'cold-start',
  title: 'Cold start',
  budgetMs: 300_000,
  run,
};

async function run(ctx: BenchContext): Promise<SectionOutput> {
  const synth = await ctx.synth();
  if (synth.exitCode !== 0)
    throw new Error(`cdk synth failed (exit ${synth.exitCode}): ${synth.stderrTail.slice(-500)}`);
  const bundles = bundlesOf(synth.outdir);
  ctx.log(`${bundles.length} function bundles; ${ctx.options.initRuns} fresh processes each`);

  // Round robin over the bundles, so that a change of the machine's load falls on all of them alike.
  const times = new Map<string, number[]>(bundles.map((b) => [b.handler, []]));
  for (let round = 0; round < ctx.options.initRuns; round++) {
    for (const b of bundles) {
      if (ctx.signal.aborted) throw new Error(`aborted in round ${round}`);
      times.get(b.handler)!.push(await initTime(b, ctx.signal));
    }
  }
  const rows = bundles.map((b) => ({ bundle: b, init: summarize(times.get(b.handler)!) }));
  const alternatives = await compareAlternatives(bundles, ctx);
  return report(rows, synth.wallMs, ctx.options.initRuns, alternatives);
}

/** The handler the alternatives are built for: the one on the path to safety. */
const COMPARED = 'rollback';

interface Alternative {
  readonly name: string;
  readonly bytes: number;
  readonly init: Summary;
}

/**
 * Other ways to bundle the same handler, built here with esbuild's API as `cdk synth` builds the real one
 * (minified, CJS, node24, source map without sources), measured beside the deployed bundle under the same load.
 * "zod as a namespace" rewrites `import { z } from 'zod'` to `import * as z from 'zod'` while bundling (the
 * sources stay as they are): esbuild cannot drop the parts of zod a re-exported `z` object reaches, but it can
 * when each file imports the namespace itself.
 */
async function compareAlternatives(bundles: readonly Bundle[], ctx: BenchContext): Promise<Alternative[]> {
  const deployed = bundles.find((b) => b.handler === COMPARED);
  if (!deployed) return [];
  const outdir = mkdtempSync(path.join(tmpdir(), 'bench-bundles-'));
  try {
    const zodNamespace: esbuild.Plugin = {
      name: 'zod-namespace',
      setup(build) {
        build.onLoad({ filter: /[\\/]lambdas[\\/].*\.ts$/ }, (args) => ({
          contents: readFileSync(args.path, 'utf8').replace(
            /import \{ z \} from 'zod';/g,
            "import * as z from 'zod';",
          ),
          loader: 'ts',
        }));
      },
    };
    const variants: { name: string; options: esbuild.BuildOptions }[] = [
      { name: "SDK bundled, CommonJS entry points (esbuild's default)", options: {} },
      {
        name: 'SDK bundled, ESM entry points (`mainFields: module, main`)',
        options: { mainFields: ['module', 'main'] },
      },
      {
        name: 'SDK bundled, ESM entry points, zod as a namespace',
        options: { mainFields: ['module', 'main'], plugins: [zodNamespace] },
      },
      {
        name: 'SDK external, zod as a namespace',
        options: { external: ['@aws-sdk/*'], plugins: [zodNamespace] },
      },
    ];
    const built: Bundle[] = [deployed];
    for (const [i, v] of variants.entries()) {
      const dir = path.join(outdir, String(i));
      await esbuild.build({
        entryPoints: [path.join(ROOT, 'lambdas', 'handlers', `${COMPARED}.ts`)],
        outfile: path.join(dir, 'index.js'),
        bundle: true,
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        platform: 'node',
        target: 'node24',
        format: 'cjs',
        logLevel: 'silent',
        ...v.options,
      });
      built.push({
        ...deployed,
        handler: v.name,
        assetDir: dir,
        bytes: statSync(path.join(dir, 'index.js')).size,
      });
    }
    const times = built.map(() => [] as number[]);
    for (let round = 0; round < ctx.options.initRuns; round++) {
      for (const [i, b] of built.entries()) {
        if (ctx.signal.aborted) throw new Error('aborted');
        times[i]!.push(await initTime(b, ctx.signal));
      }
    }
    return built.map((b, i) => ({
      name: i === 0 ? 'as deployed (this synth)' : b.handler,
      bytes: b.bytes,
      init: summarize(times[i]!),
    }));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Each project function of the synthesized stacks, by the handler its tag names, with its asset. */
function bundlesOf(outdir: string): Bundle[] {
  const found = new Map<string, Bundle>();
  for (const file of readdirSync(outdir)
    .filter((f) => f.endsWith('.template.json'))
    .sort()) {
    const template = JSON.parse(readFileSync(path.join(outdir, file), 'utf8')) as {
      Resources: Record<
        string,
        { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
      >;
    };
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const tags = (resource.Properties?.Tags as { Key: string; Value: unknown }[] | undefined) ?? [];
      const handler = tags.find((t) => t.Key === 'environment-controller:handler')?.Value;
      const asset = resource.Metadata?.['aws:asset:path'];
      if (typeof handler !== 'string' || typeof asset !== 'string' || found.has(handler)) continue;
      const assetDir = path.join(outdir, asset);
      const index = path.join(assetDir, 'index.js');
      if (!existsSync(index)) continue;
      const variables = ((
        resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
      )?.Variables ?? {}) as Record<string, unknown>;
      const environment = Object.fromEntries(
        Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
      const code = readFileSync(index, 'utf8');
      found.set(handler, {
        handler,
        assetDir,
        bytes: statSync(index).size,
        mapBytes: existsSync(`${index}.map`) ? statSync(`${index}.map`).size : 0,
        environment,
        // The clients themselves, not the optional packages the SDK requires only if present.
        sdkExternal: /require\(["']@aws-sdk\/(client-|lib-dynamodb)/.test(code),
      });
    }
  }
  if (found.size === 0) throw new Error(`no tagged function bundles in ${outdir}`);
  return [...found.values()].sort((a, b) => a.handler.localeCompare(b.handler));
}

/**
 * Milliseconds to `require` the bundle in a fresh Node process, as the runtime does at init: the function's own
 * environment (NODE_OPTIONS=--enable-source-maps included), and NODE_PATH pointing at this project's node_modules
 * where Lambda's points at the runtime's, so that an SDK left out of the bundle is found and loaded as there.
 */
async function initTime(bundle: Bundle, signal: AbortSignal): Promise<number> {
  const script =
    "const t = performance.now(); const m = require(process.argv[1]); const d = performance.now() - t; if (typeof m.handler !== 'function') process.exit(3); process.stdout.write(String(d));";
  const result = await runProcess(process.execPath, ['-e', script, path.join(bundle.assetDir, 'index.js')], {
    cwd: bundle.assetDir,
    env: childEnv({
      ...bundle.environment,
      NODE_PATH: path.join(ROOT, 'node_modules'),
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: bundle.handler,
    }),
    timeoutMs: 30_000,
    signal,
  });
  const value = Number(result.stdout);
  if (result.exitCode !== 0 || !Number.isFinite(value))
    throw new Error(
      `loading the ${bundle.handler} bundle failed (exit ${result.exitCode}): ${result.stderr.slice(-300)}`,
    );
  return value;
}

/** Bytes of the generated file by original source, from the bundle's source map. */
export function bytesBySource(mapFile: string, generated: string): Map<string, number> {
  const map = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[]; mappings: string };
  const lines = generated.split('\n');
  const bytes = new Map<string, number>();
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let source = 0;
  map.mappings.split(';').forEach((line, lineIndex) => {
    const lineLength = lines[lineIndex]?.length ?? 0;
    const segments: { column: number; source: number | undefined }[] = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of segment) {
        const digit = chars.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0]!;
      if (fields.length >= 4) source += fields[1]!;
      segments.push({ column, source: fields.length >= 4 ? source : undefined });
    }
    segments.forEach((s, i) => {
      if (s.source === undefined) return;
      const end = segments[i + 1]?.column ?? lineLength;
      const name = map.sources[s.source] ?? '?';
      bytes.set(name, (bytes.get(name) ?? 0) + Math.max(0, end - s.column));
    });
  });
  return bytes;
}

/** `…/node_modules/zod/v4/core/schemas.js` → `zod`; `<root>/lambdas/domain/config.ts` → `lambdas/domain`. */
function packageOf(file: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (m) return m[1]!;
  const parts = path.relative(ROOT, file).split(path.sep);
  return parts.slice(0, Math.min(2, parts.length - 1)).join('/') || file;
}

/** The Lambda sources that import zod's `z` object rather than its namespace. */
function filesImportingZodObject(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && /import \{ z \} from 'zod'/.test(readFileSync(full, 'utf8')))
        found.push(path.relative(ROOT, full));
    }
  };
  walk(path.join(ROOT, 'lambdas'));
  return found.sort();
}

function report(
  rows: readonly { bundle: Bundle; init: Summary }[],
  synthMs: number,
  initRuns: number,
  alternatives: readonly Alternative[],
): SectionOutput {
  const largest = rows.reduce((a, b) => (b.bundle.bytes > a.bundle.bytes ? b : a));
  const slowest = rows.reduce((a, b) => (b.init.median > a.init.median ? b : a));
  const sizeMet = rows.every((r) => r.bundle.bytes <= SIZE_GOAL);
  const initMet = rows.every((r) => r.init.median <= INIT_GOAL_MS);
  const sdkExternal = rows.every((r) => r.bundle.sdkExternal);
  const sdkBundled = rows.every((r) => !r.bundle.sdkExternal);

  const index = path.join(largest.bundle.assetDir, 'index.js');
  const composition = existsSync(`${index}.map`)
    ? [...bytesBySource(`${index}.map`, readFileSync(index, 'utf8')).entries()].reduce((acc, [source, n]) => {
        const name = packageOf(path.resolve(largest.bundle.assetDir, source));
        return acc.set(name, (acc.get(name) ?? 0) + n);
      }, new Map<string, number>())
    : new Map<string, number>();
  const zodShare = (composition.get('zod') ?? 0) / largest.bundle.bytes;
  const zodFiles = filesImportingZodObject();
  const alternative = (prefix: string) => alternatives.find((a) => a.name.startsWith(prefix));
  const deployedAlt = alternative('as deployed');
  const cjs = alternative('SDK bundled, CommonJS');
  const esm = alternative('SDK bundled, ESM entry points (');
  const externalZod = alternative('SDK external, zod');
  const parts = [...composition.entries()].sort((a, b) => b[1] - a[1]);
  const top = parts
    .slice(0, 8)
    .map(([name, n]) => [name, kib(n), `${((100 * n) / largest.bundle.bytes).toFixed(0)} %`]);

  const figures = [
    {
      label: 'largest bundle (index.js, minified)',
      value: `${kib(largest.bundle.bytes)} (${largest.bundle.handler}); smallest ${kib(Math.min(...rows.map((r) => r.bundle.bytes)))}`,
      goal: '≤ 300 KB each',
      met: sizeMet,
    },
    {
      label: `init time, slowest median of ${initRuns}`,
      value: `${ms(slowest.init.median)} (${slowest.bundle.handler}); fastest ${ms(Math.min(...rows.map((r) => r.init.median)))}`,
      goal: '≤ 150 ms each',
      met: initMet,
    },
    {
      label: 'AWS SDK v3',
      value: sdkExternal ? 'from the runtime (external)' : sdkBundled ? 'bundled' : 'mixed',
    },
  ];
  const markdown = [
    `**How.** \`cdk synth -q -o <temp dir>\` of the real app with bundling (${ms(synthMs)}), as \`cdk deploy\``,
    'would build the assets. Each `AWS::Lambda::Function` of the templates is mapped to its handler by its',
    '`environment-controller:handler` tag and to its asset directory by its `aws:asset:path` metadata. Size is',
    `the asset's \`index.js\` (the source map ships beside it and is listed apart). Init time: ${initRuns} fresh`,
    '`node -e "const t = performance.now(); require(\'<asset>/index.js\'); …"` processes per bundle, round robin',
    "over the bundles, with the function's own environment (its `NODE_OPTIONS=--enable-source-maps`) and",
    "`NODE_PATH` at this project's `node_modules`, where Lambda's points at the runtime's own modules, so that",
    'an SDK left out of the bundle is found and loaded as it would be there. The module must export `handler`.',
    '',
    ...table(
      ['function', 'index.js', 'source map', 'init median', 'p99', 'min'],
      rows.map((r) => [
        r.bundle.handler,
        kib(r.bundle.bytes),
        kib(r.bundle.mapBytes),
        ms(r.init.median),
        ms(r.init.p99),
        ms(r.init.min),
      ]),
    ),
    '',
    `What the largest bundle (${largest.bundle.handler}, ${kib(largest.bundle.bytes)}) is made of, read from`,
    'its source map (bytes of generated code by original file, summed by package):',
    '',
    ...table(['package', 'bytes', 'share'], top),
    '',
    `The same \`${COMPARED}\` handler bundled other ways, ${initRuns} fresh processes each, round robin with the`,
    'deployed one (so under the same load):',
    '',
    ...table(
      ['bundle', 'index.js', 'init median', 'p99'],
      alternatives.map((a) => [a.name, kib(a.bytes), ms(a.init.median), ms(a.init.p99)]),
    ),
    '',
    ...(sdkExternal
      ? [
          "**The AWS SDK is left out of the bundles** (`externalModules: ['@aws-sdk/*']` in",
          '`lib/constructs/controller-function.ts`): the nodejs24.x runtime provides AWS SDK v3, so each bundle holds',
          "only the project's code, zod and Powertools. The trade-off: the SDK a function runs is the version in the",
          'runtime, which AWS updates on its own schedule, not the one `package-lock.json` pins and the tests run; a',
          'new SDK release reaches the functions without a deploy of ours, and a fix we need waits for the runtime.',
          'Bundling it back (pinned) is one line. Init time: the runtime loads its SDK from the CommonJS builds, every',
          'client a function imports, which costs more than an SDK bundled from its ES modules and tree-shaken',
          deployedAlt && esm
            ? `(for \`${COMPARED}\`: ${ms(deployedAlt.init.median)} as deployed, ${ms(esm.init.median)} with the SDK bundled that way${cjs ? `, ${ms(cjs.init.median)} bundled from its CommonJS builds as before this change` : ''}; table above).`
            : '(table above).',
        ]
      : []),
    ...(zodFiles.length > 0 && zodShare > 0.2
      ? [
          '',
          `**zod is ${(100 * zodShare).toFixed(0)} % of the largest bundle.** ${zodFiles.length} Lambda source files import \`{ z }\` from \`zod\`,`,
          'a re-exported namespace object: esbuild cannot tell which of its members are used (Rollup and webpack can),',
          'so all of zod is bundled, every one of its locales included. Importing the namespace (`import * as z from',
          "'zod'`) lets esbuild drop what is not used, with the same API and behaviour" +
            (externalZod
              ? ` (${kib(externalZod.bytes)} for \`${COMPARED}\` with the SDK external, in the table above).`
              : '.'),
          `That is a change to the sources, not to the bundling: ${zodFiles.map((f) => `\`${f}\``).join(', ')}.`,
        ]
      : []),
  ];
  return {
    figures,
    markdown,
    data: {
      synthMs,
      bundles: rows.map((r) => ({
        handler: r.bundle.handler,
        bytes: r.bundle.bytes,
        mapBytes: r.bundle.mapBytes,
        sdkExternal: r.bundle.sdkExternal,
        init: r.init,
      })),
      composition: Object.fromEntries(parts),
      alternatives,
    },
  };
}
