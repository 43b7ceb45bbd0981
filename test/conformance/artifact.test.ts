import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { createArtifactStore } from '../../src/stores/artifact/index.js';
import type { StoreContext } from '../../src/stores/store.js';
import { rejection } from '../helpers/errors.js';
import {
  freePort,
  type RunningServer,
  serverAvailable,
  startAzurite,
  tempStoreDir,
} from '../helpers/servers.js';
import { type ArtifactHarness, artifactStoreConformance } from './artifact.js';
import { sha256 } from './artifact-helpers.js';

const ctx = (dataDir: string, azureConnectionString?: string): StoreContext => ({
  dataDir,
  logger: silentLogger,
  ...(azureConnectionString ? { azureConnectionString } : {}),
});

/** Every file under dir, relative to root (so anything outside the root shows up as ../...). */
async function filesUnder(dir: string, root: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

async function localHarness(): Promise<ArtifactHarness & { root: string }> {
  const dir = tempStoreDir('artifact');
  const root = join(dir, 'store');
  const store = await createArtifactStore(`file:${root}`, ctx(dir));
  return {
    store,
    root,
    // Rewrites the file in place, as an editor would: same inode, different bytes.
    tamper: (path, bytes) => writeFile(join(root, ...path.split('/')), bytes),
    rawNames: () => filesUnder(dir, root),
    teardown: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

artifactStoreConformance('local directory', localHarness);

describe('local directory artifact store', () => {
  it('keeps artifacts as plain files under the root and never lists its sidecars or temp files', async () => {
    const h = await localHarness();
    try {
      await h.store.put('models/m.onnx', 'weights');
      expect(readFileSync(join(h.root, 'models', 'm.onnx'), 'utf8')).toBe('weights');
      const files = readdirSync(join(h.root, 'models'));
      expect(files).toContain('.meridian-meta-m.onnx.json');
      writeFileSync(join(h.root, 'models', '.meridian-tmp-0123456789abcdef'), 'half a file');
      writeFileSync(join(h.root, 'models', 'dropped-by-hand.bin'), 'no sidecar');
      expect((await h.store.list()).map((a) => a.path)).toEqual(['models/m.onnx']);
      expect(await h.store.stat('models/dropped-by-hand.bin')).toBeNull();
    } finally {
      await h.teardown();
    }
  });

  it('serves the new version, never DATA_CORRUPT, after a crash between renaming the content and its sidecar', async () => {
    const h = await localHarness();
    try {
      await h.store.put('models/m.bin', 'old version');
      const dir = join(h.root, 'models');
      const tmp = join(dir, '.meridian-tmp-00112233aabbccdd');
      const next = Buffer.from('new version, longer');
      writeFileSync(tmp, next);
      const ino = statSync(tmp, { bigint: true }).ino.toString();
      const sidecar = { path: 'models/m.bin', sha256: sha256(next), size: next.length, ino };
      writeFileSync(`${tmp}.json`, JSON.stringify({ ...sidecar, updatedAt: new Date().toISOString() }));
      // The crash: the content is in place, its sidecar is still under its temp name.
      renameSync(tmp, join(dir, 'm.bin'));
      expect(await h.store.getBuffer('models/m.bin')).toEqual(next);
      expect(await h.store.stat('models/m.bin')).toMatchObject({ sha256: sha256(next), size: next.length });
      expect(await h.store.list()).toMatchObject([{ path: 'models/m.bin', sha256: sha256(next) }]);
    } finally {
      await h.teardown();
    }
  });

  it('removes emptied directories on delete', async () => {
    const h = await localHarness();
    try {
      await h.store.put('a/b/c/d.bin', 'x');
      expect(await h.store.delete('a/b/c/d.bin')).toBe(true);
      expect(existsSync(join(h.root, 'a'))).toBe(false);
      expect(existsSync(h.root)).toBe(true);
    } finally {
      await h.teardown();
    }
  });

  it('refuses with CONFLICT a path that nests under an existing artifact file', async () => {
    const h = await localHarness();
    try {
      await h.store.put('model', 'a file');
      const err = await rejection(h.store.put('model/inner', 'x'));
      expect(err.code).toBe('CONFLICT');
      expect((await h.store.getBuffer('model')).toString()).toBe('a file');
    } finally {
      await h.teardown();
    }
  });
});

describe('createArtifactStore', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempStoreDir('artifact-factory');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts `file` under the data directory and `file:` URLs where they point', async () => {
    const inData = await createArtifactStore('file', ctx(dir));
    await inData.put('x/y', 'data');
    expect(readFileSync(join(dir, 'artifacts', 'x', 'y'), 'utf8')).toBe('data');
    const abs = join(dir, 'elsewhere');
    const plain = await createArtifactStore(`file:${abs}`, ctx(dir));
    await plain.put('p', 'plain');
    const url = await createArtifactStore(pathToFileURL(abs).href, ctx(dir));
    expect((await url.getBuffer('p')).toString()).toBe('plain');
    expect(plain.description).toContain(abs);
  });

  it('rejects unknown forms with CONFIG_INVALID naming artifactStore and the accepted forms', async () => {
    for (const url of ['s3://bucket', 'file:relative/dir', 'file:', 'azure:', 'azure:Bad_Name', '']) {
      const err = await rejection(createArtifactStore(url, ctx(dir, 'UseDevelopmentStorage=true')));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details.field).toBe('artifactStore');
      expect(err.message).toMatch(/azure:|container/);
    }
  });

  it('asks for azure.connectionString and MERIDIAN_AZURE_CONNECTION_STRING when azure has none', async () => {
    const err = await rejection(createArtifactStore('azure:models', ctx(dir)));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details.field).toBe('azure.connectionString');
    expect(err.message).toContain('MERIDIAN_AZURE_CONNECTION_STRING');
  });

  it('fails with STORE_UNAVAILABLE when the directory cannot be created', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const err = await rejection(createArtifactStore(`file:${join(file, 'store')}`, ctx(dir)));
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).toContain(file);
  });

  it('fails within seconds with STORE_UNAVAILABLE naming the endpoint, never the key, when Azure is unreachable', async () => {
    const port = await freePort();
    const key = randomBytes(64).toString('base64');
    const connection = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
    const started = Date.now();
    const err = await rejection(createArtifactStore('azure:models', ctx(dir, connection)));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(JSON.stringify({ message: err.message, details: err.details })).not.toContain(key);
  });
});

describe.runIf(serverAvailable('azurite'))('Azure Blob artifact store on Azurite', () => {
  let azurite: RunningServer;
  let service: BlobServiceClient;
  beforeAll(async () => {
    azurite = await startAzurite();
    service = BlobServiceClient.fromConnectionString(azurite.url);
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  const azureHarness = async (): Promise<ArtifactHarness> => {
    const container = `t-${randomBytes(6).toString('hex')}`;
    const store = await createArtifactStore(`azure:${container}`, ctx(tmpdir(), azurite.url));
    const client = service.getContainerClient(container);
    return {
      store,
      // Overwrites the blob with the raw SDK, copying its metadata so the recorded sha256 stays.
      tamper: async (path, bytes) => {
        const blob = client.getBlockBlobClient(path);
        const { metadata } = await blob.getProperties();
        await blob.upload(bytes, bytes.length, { metadata: metadata ?? {} });
      },
      rawNames: async () => {
        const names: string[] = [];
        for await (const c of service.listContainers()) {
          for await (const b of service.getContainerClient(c.name).listBlobsFlat())
            names.push(`${c.name}/${b.name}`);
        }
        return names.sort();
      },
      teardown: async () => {
        await store.close();
        await client.deleteIfExists();
      },
    };
  };

  artifactStoreConformance('Azure Blob (Azurite)', azureHarness);

  it('creates its container when missing and keeps the sha256 in blob metadata', async () => {
    const h = await azureHarness();
    try {
      const container = h.store.description.slice('azure:'.length).split('@')[0]!;
      expect(await service.getContainerClient(container).exists()).toBe(true);
      await h.store.put('m/x.bin', 'payload', { contentType: 'application/x-test' });
      const props = await service.getContainerClient(container).getBlockBlobClient('m/x.bin').getProperties();
      expect(props.metadata?.sha256).toBe(sha256('payload'));
      expect(props.contentType).toBe('application/x-test');
      expect(h.store.description).not.toContain('AccountKey');
    } finally {
      await h.teardown();
    }
  });

  it('answers DATA_CORRUPT for a blob written without a recorded sha256, and leaves it out of list', async () => {
    const h = await azureHarness();
    try {
      const container = h.store.description.slice('azure:'.length).split('@')[0]!;
      await service.getContainerClient(container).getBlockBlobClient('foreign.bin').upload('abc', 3);
      expect((await rejection(h.store.getBuffer('foreign.bin'))).code).toBe('DATA_CORRUPT');
      expect(await h.store.list()).toEqual([]);
    } finally {
      await h.teardown();
    }
  });
});
