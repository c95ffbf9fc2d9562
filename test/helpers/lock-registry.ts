import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// An npm registry on loopback that knows exactly the packages of a package-lock.json, each at its locked version.
// `npm install -g TARBALL` asks the registry for every dependency's metadata (packuments), which `npm ci` does not
// keep in npm's cache; the tarballs themselves are in the cache by integrity (npm ci put them there), so with this
// registry and --prefer-offline an install needs no host but 127.0.0.1. The tarball URLs are the public
// registry's, as the lock has them; npm finds each in its cache by integrity and never fetches it.
type LockEntry = {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, unknown>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  os?: string[];
  cpu?: string[];
};

type Packument = { name: string; 'dist-tags': { latest: string }; versions: Record<string, unknown> };

export const packumentsOf = (lockPath: string): Map<string, Packument> => {
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { packages: Record<string, LockEntry> };
  const docs = new Map<string, Packument>();
  for (const [path, e] of Object.entries(lock.packages)) {
    if (path === '' || e.link || !e.version || !e.integrity) continue;
    const name = e.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const base = name.split('/').pop() as string;
    const doc = docs.get(name) ?? { name, 'dist-tags': { latest: e.version }, versions: {} };
    doc.versions[e.version] = {
      name,
      version: e.version,
      dependencies: e.dependencies ?? {},
      optionalDependencies: e.optionalDependencies ?? {},
      peerDependencies: e.peerDependencies ?? {},
      peerDependenciesMeta: e.peerDependenciesMeta ?? {},
      ...(e.bin ? { bin: e.bin } : {}),
      ...(e.engines ? { engines: e.engines } : {}),
      ...(e.os ? { os: e.os } : {}),
      ...(e.cpu ? { cpu: e.cpu } : {}),
      dist: {
        tarball: e.resolved ?? `https://registry.npmjs.org/${name}/-/${base}-${e.version}.tgz`,
        integrity: e.integrity,
      },
    };
    docs.set(name, doc);
  }
  return docs;
};

// Serves the packuments; every request is counted (asked) and an unknown name is a 404 (missed).
export const startLockRegistry = async (
  lockPath: string,
): Promise<{ url: string; asked: string[]; missed: string[]; close: () => Promise<void> }> => {
  const docs = packumentsOf(lockPath);
  const asked: string[] = [];
  const missed: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    asked.push(name);
    const doc = docs.get(name);
    if (!doc) missed.push(name);
    res.writeHead(doc ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(doc ?? { error: 'not found' }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    asked,
    missed,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
};
