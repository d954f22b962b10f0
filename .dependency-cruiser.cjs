/**
 * The layers of src/ (docs/architecture.md, "Where the code lives"), bottom to top. A folder imports
 * only its own layer and the ones below it, type imports included; module cycles are forbidden too.
 * `npm run check:deps` runs this; test/docs/dependency-rules.test.ts shows that a deliberate cycle
 * and an upward import fail it.
 */
const layers = [
  ['errors', '^src/(errors/|clock\\.ts$)'],
  ['machines', '^src/machines/'],
  ['storage', '^src/storage/'],
  ['telemetry', '^src/telemetry/'],
  ['wire', '^src/wire/'],
  ['routing', '^src/routing/'],
  ['actors', '^src/actors/'],
  ['runtime', '^src/runtime/'],
  ['dashboard', '^src/dashboard/'],
  ['entry', '^src/index\\.ts$'],
  ['surfaces', '^src/(testing|cli)/'],
];

const upward = layers.slice(0, -1).map(([name, path], i) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} imports only itself and the layers below it`,
  severity: 'error',
  from: { path },
  to: {
    path: layers
      .slice(i + 1)
      .map(([, p]) => `(${p})`)
      .join('|'),
  },
}));

// Inside src/actors: the shared types at its root sit below the roles; retry below dispatch below
// consumer; the wiring that provides the machines (provide-machines.ts) on top; lease (the partition
// lease managers, used by the runtime) beside the roles, on the shared types only.
const wiring = '^src/actors/provide-machines\\.ts$';
const actorRules = [
  ['testing', '^src/testing/', '^src/cli/'],
  [
    'actors-shared',
    `^src/actors/(?!provide-machines)[^/]+\\.ts$`,
    `^src/actors/(consumer|dispatch|retry|lease)/|${wiring}`,
  ],
  ['actors-lease', '^src/actors/lease/', `^src/actors/(consumer|dispatch|retry)/|${wiring}`],
  ['actors-retry', '^src/actors/retry/', `^src/actors/(consumer|dispatch)/|${wiring}`],
  ['actors-dispatch', '^src/actors/dispatch/', `^src/actors/consumer/|${wiring}`],
  ['actors-consumer', '^src/actors/consumer/', wiring],
].map(([name, from, to]) => ({
  name: `no-upward-from-${name}`,
  comment: 'actors: shared types < retry < dispatch < consumer < wiring',
  severity: 'error',
  from: { path: from },
  to: { path: to },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no module cycles, type imports included',
      // Cycles between folders are errors through the layer rules (a cycle needs an upward import);
      // a cycle of modules inside one folder is reported here.
      severity: 'warn',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    ...actorRules,
    {
      name: 'machines-import-only-xstate',
      comment: 'the machines are pure: xstate and their own files only',
      severity: 'error',
      from: { path: '^src/machines/' },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'core'],
        pathNot: '^node_modules/xstate/',
      },
    },
    {
      name: 'storage-without-xstate',
      severity: 'error',
      from: { path: '^src/storage/' },
      to: { path: '^node_modules/xstate/' },
    },
    {
      name: 'routing-imports-types-and-errors',
      comment: 'routing imports nothing of ours but types and errors',
      severity: 'error',
      from: { path: '^src/routing/' },
      to: { path: '^src/(?!routing/|errors/)', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    // node_modules may be a link (a git worktree sharing one install): keep its paths as they are.
    preserveSymlinks: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
