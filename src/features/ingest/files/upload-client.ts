/**
 * Streams a local file to `POST /v1/sources/:source/files` as multipart, reporting bytes sent, so
 * the CLI can upload a file of any size without reading it into memory.
 */
import { createReadStream, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, MeridianError, redactUrl } from '../../../core/errors.js';

export interface UploadOptions {
  url: string;
  source: string;
  file: string;
  fields: Record<string, string>;
  /** Called as bytes of the file are sent, with the total size. */
  onProgress?: (sent: number, total: number) => void;
}

/** What the server answered: its status and its JSON body. */
export interface UploadAnswer {
  status: number;
  body: Record<string, unknown>;
}

function parts(fileName: string, fields: Record<string, string>, boundary: string) {
  const head = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  head.push(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName.replaceAll('"', '')}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  return { head: Buffer.from(head.join('')), tail: Buffer.from(`\r\n--${boundary}--\r\n`) };
}

async function readAnswer(response: IncomingMessage): Promise<UploadAnswer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: response.statusCode ?? 0, body: { error: text.slice(0, 500) } };
  }
}

/** Uploads the file; resolves with the server's answer whatever its status. */
export async function uploadFile(options: UploadOptions): Promise<UploadAnswer> {
  let size: number;
  try {
    size = statSync(options.file).size;
  } catch {
    throw invalidArgument('file', `${options.file} cannot be read`, 'give the path of an existing file');
  }
  const boundary = `----meridian${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
  const { head, tail } = parts(basename(options.file), options.fields, boundary);
  const target = new URL(`/v1/sources/${encodeURIComponent(options.source)}/files`, options.url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      options.onProgress?.(sent, size);
      done(null, chunk);
    },
  });
  const req = send(target, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + size + tail.length,
    },
  });
  const answer = new Promise<UploadAnswer>((resolve, reject) => {
    req.on('response', (response) => readAnswer(response).then(resolve, reject));
    req.on('error', reject);
  });
  try {
    req.write(head);
    await pipeline(
      createReadStream(options.file),
      counter,
      async function* (source) {
        for await (const chunk of source) yield chunk;
        yield tail;
      },
      req,
    );
  } catch (err) {
    // The server may answer (e.g. 413) and close before the whole body is sent: its answer wins.
    const early = await Promise.race([
      answer,
      new Promise<null>((r) => setTimeout(() => r(null), 1000)),
    ]).catch(() => null);
    if (early) return early;
    throw new MeridianError(
      'UNAVAILABLE',
      `uploading ${options.file} to ${redactUrl(options.url)} failed: ${(err as Error).message}; check the server is running (meridian up) and --url`,
      { url: redactUrl(options.url) },
    );
  }
  return answer.catch((err: unknown) => {
    throw new MeridianError(
      'UNAVAILABLE',
      `no answer from ${redactUrl(options.url)}: ${(err as Error).message}; check the server is running and --url`,
      { url: redactUrl(options.url) },
    );
  });
}
