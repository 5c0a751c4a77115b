// Architecture rules, checked by `npm run lint:deps` and test/architecture/dependencies.test.ts.
// Each rule forbids one edge of the layering in the README's "Layout" section:
//
//   src/generated ← src/model ← src/common ← src/daemon/* , src/client   (client and daemon never meet)
//
// Inside src/daemon the folders form tiers, lowest first: config; audit, http, policy, state,
// vault; gate; the adapters fleet, grpc, identity, notify, web; and the composition root (daemon.ts,
// main.ts, metrics.ts). A folder may import from a lower tier, never from a higher one.
// Folder-level cycles in general are caught by scripts/check-folder-cycles.ts.
//
// A violation that exists today and is being fixed elsewhere is listed, pair by pair, in
// .dependency-cruiser.known-violations.json (`npm run lint:deps` passes --ignore-known); any new
// violation fails. Delete an entry when its fix lands; the architecture test fails on stale ones.

const DAEMON_ADAPTERS = '(fleet|grpc|identity|notify|web)';
const DAEMON_INFRASTRUCTURE = '(audit|http|policy|state|vault)';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A module cycle means neither side can be read, tested or changed alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the resolver cannot follow would hide its edges from every other rule.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      comment: 'A package that is not in package.json works only by accident of the local node_modules.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'src-not-to-dev-dep',
      comment: 'Product code runs where only "dependencies" are installed; devDependencies are for tests and tools.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },

    // ---- src/ layering ----
    {
      name: 'generated-is-self-contained',
      comment: 'src/generated is regenerated from proto/ (npm run proto:gen); it cannot depend on hand-written code.',
      severity: 'error',
      from: { path: '^src/generated/' },
      to: { dependencyTypes: ['local'], pathNot: '^src/generated/' },
    },
    {
      name: 'model-imports-only-generated',
      comment:
        'src/model is the domain model both the daemon and the SDK build on: it imports nothing but src/generated ' +
        '(the wire types it maps) and node built-ins, so it can never pull daemon or SDK code into the other.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { pathNot: '^src/(model|generated)/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'common-imports-only-model',
      comment:
        'src/common is shared by the daemon and the SDK: besides npm packages and node built-ins it may import ' +
        'only src/model and src/generated, never the daemon, the SDK, or anything outside src/.',
      severity: 'error',
      from: { path: '^src/common/' },
      to: { dependencyTypes: ['local'], pathNot: '^src/(common|model|generated)/' },
    },
    {
      name: 'client-not-to-daemon',
      comment: 'The SDK ships to CI steps; importing the daemon would drag its internals (and their dependencies) into every consumer.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/daemon/' },
    },
    {
      name: 'daemon-not-to-client',
      comment: 'The daemon must not depend on its own client: what both need lives in src/model or src/common.',
      severity: 'error',
      from: { path: '^src/daemon/' },
      to: { path: '^src/(client|cli)/' },
    },
    {
      name: 'client-not-to-cli',
      comment: 'The CLI is built on the SDK, never the reverse: an SDK consumer gets no yargs and no terminal code.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'cli-uses-daemon-offline-parts-only',
      comment: 'The CLI is a composition root like src/daemon/main.ts: `policy check|explain` evaluate a config offline with the daemon\'s own loader and engine (one implementation, so the answer is the daemon\'s). Nothing that serves, mints or stores.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/daemon/', pathNot: '^src/daemon/(config|policy)/' },
    },

    // ---- src/, scripts/, bench/, tools/ vs test/ ----
    {
      name: 'no-test-imports',
      comment: 'test/ is not shipped and may change with any test; product code, scripts, benchmarks and tools never import it.',
      severity: 'error',
      from: { path: '^(src|scripts|bench|tools)/' },
      to: { path: '^test/' },
    },
    {
      name: 'tools-not-to-src',
      comment: 'tools/ (e.g. the Vault-compatible server) stand beside the product: they must work without any daemon or SDK code.',
      severity: 'error',
      from: { path: '^tools/' },
      to: { path: '^src/' },
    },

    // ---- tiers inside src/daemon ----
    {
      name: 'daemon-config-is-a-leaf',
      comment:
        'Every daemon folder reads the configuration types; config importing any of them would close a cycle ' +
        '(config↔policy was one). The one configuration phase validates with what config itself holds.',
      severity: 'error',
      from: { path: '^src/daemon/config/' },
      to: { path: '^src/daemon/', pathNot: '^src/daemon/config/' },
    },
    {
      name: 'daemon-infrastructure-not-to-gate',
      comment: 'The gate depends on audit, http, policy, state and vault (gate↔state and gate↔vault were cycles), not the reverse.',
      severity: 'error',
      from: { path: `^src/daemon/${DAEMON_INFRASTRUCTURE}/` },
      to: { path: '^src/daemon/gate/' },
    },
    {
      name: 'daemon-infrastructure-not-to-adapters',
      comment: 'grpc, identity, notify and web sit above the infrastructure they use; the reverse edge would be a cycle waiting to happen.',
      severity: 'error',
      from: { path: `^src/daemon/${DAEMON_INFRASTRUCTURE}/` },
      to: { path: `^src/daemon/${DAEMON_ADAPTERS}/` },
    },
    {
      name: 'daemon-gate-not-to-adapters',
      comment: 'The gate talks to transports, identity, notifiers and pages through its ports; it never imports them.',
      severity: 'error',
      from: { path: '^src/daemon/gate/' },
      to: { path: `^src/daemon/${DAEMON_ADAPTERS}/` },
    },
    {
      name: 'daemon-adapters-use-gate-types-only',
      comment:
        'Adapters depend on what the gate is (its interfaces), never on its implementation: only the composition ' +
        'root (src/daemon/daemon.ts) constructs the gate. Type-only imports keep that checkable.',
      severity: 'error',
      from: { path: `^src/daemon/${DAEMON_ADAPTERS}/` },
      to: { path: '^src/daemon/gate/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'daemon-grpc-identity-web-use-gate-ports-only',
      comment: 'The transport, the identity resolvers and the web pages need the Gate and resolver ports, nothing else of the gate.',
      severity: 'error',
      from: { path: '^src/daemon/(grpc|identity|web)/' },
      to: { path: '^src/daemon/gate/', pathNot: '^src/daemon/gate/(types|ports)\\.ts$' },
    },
    {
      name: 'daemon-gate-internals-private',
      comment: 'Subfolders of the gate (pending/, grants/, ...) are its internals: outside the gate only its top-level files are visible.',
      severity: 'error',
      from: { pathNot: '^src/daemon/gate/' },
      to: { path: '^src/daemon/gate/[^/]+/' },
    },
    {
      name: 'daemon-web-not-to-notify',
      comment: 'notify links to the web approval page (request-page-url); the page never needs a notifier (notify↔web was a cycle).',
      severity: 'error',
      from: { path: '^src/daemon/web/' },
      to: { path: '^src/daemon/notify/' },
    },
    {
      name: 'daemon-root-is-the-composition-root',
      comment: 'daemon.ts, main.ts and metrics.ts wire every folder together; a folder importing them back would be a cycle through the root.',
      severity: 'error',
      from: { path: '^src/daemon/[^/]+/' },
      to: { path: '^src/daemon/[^/]+\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // Type-only imports are edges too: a reader follows them, and layering holds for types as well.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
