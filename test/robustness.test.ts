import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { docker, removeByName } from './support/docker.js';
import { TEST_IMAGE, startKai, uniqueId, type TestKai } from './support/kai.js';

/**
 * Generated malformed requests against every route. Each request is built to
 * be invalid, so every answer must be the error envelope, and nothing may be
 * created or lost. Re-run a failure with KAI_ROBUSTNESS_SEED=<seed>.
 */
const SEED = Number(process.env.KAI_ROBUSTNESS_SEED ?? 0x6b616931) >>> 0;
const PER_TARGET = 40;
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 15_000;
const BODY_LIMIT = 256 * 1024;
const ERROR_CODES = ['VALIDATION_ERROR', 'PERMISSION_DENIED', 'NOT_FOUND', 'CONTAINER_NOT_FOUND', 'CONFLICT'];
const STATUS_OF: Record<string, number> = { VALIDATION_ERROR: 400, PERMISSION_DENIED: 403, NOT_FOUND: 404, CONTAINER_NOT_FOUND: 404, CONFLICT: 409 };
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;
/** A key no input may ever manage to put on Object.prototype (Kai runs in this process). */
const POLLUTION_KEY = 'kaiPolluted';

// mulberry32: tiny, fast and good enough to pick inputs reproducibly.
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += '0123456789abcdef'[this.int(0, 15)];
    return out;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-a${this.hex(3)}-${this.hex(12)}`;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}

const TARGETS = [
  'GET /api/flexy',
  'POST /api/flexy',
  'GET /api/flexy/:id',
  'DELETE /api/flexy/:id',
  'POST /api/flexy/:id/start',
  'POST /api/flexy/:id/stop',
  'POST /api/flexy/:id/restart',
  'GET /api/catalog/flexy',
  'POST /api/catalog/flexy',
  'DELETE /api/catalog/flexy/:id',
  'POST /api/catalog/flexy/:id/launch',
  'POST /api/host/directories',
  'GET /api/health',
  'GET /api/ready',
  'unknown route',
] as const;
type Target = (typeof TARGETS)[number];

interface Case {
  n: number;
  target: Target;
  kind: string;
  method: string;
  /** Request target exactly as sent (ASCII, already encoded). */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  /** Statuses a correct Kai may answer; every one of them is an error. */
  expect: readonly number[];
  /** For a 400 VALIDATION_ERROR: some details.fields[].field must start with this. */
  expectField?: string;
  expectCode?: string;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

interface Fixture {
  root: string;
  prefix: string;
  /** Containers Kai must not see: a plain one and one of another Kai instance. */
  decoys: Array<{ id: string; name: string }>;
}

// ---------------------------------------------------------------- inputs

const JSON_CT = { 'content-type': 'application/json' };
const NO_CONTENT_TYPE = 'none';
const WRONG_CONTENT_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  NO_CONTENT_TYPE,
  'application/xml',
  'multipart/form-data; boundary=kai',
  'application/jsonx',
  'application/vnd.api+json',
  'text/json',
  'application/octet-stream',
  'image/png',
];
const WRONG_TYPES: readonly unknown[] = [0, 1, -1, 3.14, 1e308, true, false, null, [], [1], ['x'], {}, { a: 1 }];
const MALFORMED_JSON = [
  '{',
  '}',
  '{"name":',
  '{"name":"ab",}',
  "{'name':'ab'}",
  '{name:"ab"}',
  '{"name":"ab"}}',
  '{"name":"ab"} x',
  'undefined',
  'NaN',
  '{"a":NaN}',
  '{"a":Infinity}',
  '[1,]',
  '{"a":1 // c\n}',
  '/* c */{}',
  '{"a":"\\x41"}',
  '{"a":"\u0001"}',
  '\uFEFF{',
  'tru',
  'nul',
  '"unterminated',
  '{"a":01}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":0x10}',
  '{"a":1e}',
  '{"a":"b"\n"c":1}',
  '{,}',
  '[',
  ']',
  '{"a" "b"}',
  '\u0000{}',
  '{}\u0000',
  '<xml/>',
  'name=ab&hostPath=/',
];
const HIGH_UNICODE = ['ñ', '😀', '中文', 'Ω≈ç√', '\u202e\u202d', 'e\u0301', '\uffff', 'ｆｕｌｌ'];

/** At least `min` code points (ajv's maxLength counts code points, not UTF-16 units). */
function hugeString(r: Rng, min: number, max: number): string {
  const unit = r.pick(['a', 'é', '€', 'ab/', '😀']);
  return unit.repeat(Math.ceil(r.int(min, max) / [...unit].length));
}

/** Host paths that leave the root, by `..`, by being elsewhere, or through a symlink: always 403. */
function escapingHostPaths(root: string): string[] {
  return [
    '/',
    '/etc',
    '/etc/passwd',
    '/../..',
    '/etc/../..',
    '//etc',
    '/proc/self/root',
    `${root}/..`,
    `${root}/../..`,
    `${root}/sub/../..`,
    `${root}/sub/../../..`,
    `${root}/sub/inner/../../../${path.basename(root)}-evil`,
    `${root}-evil`,
    `${root}/../${path.basename(root)}-evil`,
    `${root}/escape`,
    `${root}/escape/etc`,
    `${root}/escape/tmp/../etc`,
    `${root}/escape-up`,
    `${root}/sub/../escape`,
    `${root}/evil-link`,
    `${root}/evil-link/inside`,
  ];
}

/** Host paths that must never be accepted: outside the root, missing, not a folder, or malformed. */
function badHostPaths(root: string, r: Rng): string[] {
  return [
    ...escapingHostPaths(root),
    `${root}/loop`,
    `${root}/loop/x`,
    `${root}/dangling`,
    `${root}/file.txt`,
    `${root}/file.txt/x`,
    `${root}/missing`,
    `${root}/%2e%2e`,
    `${root}/%2e%2e/%2e%2e`,
    `${root}/..%2f..`,
    `${root}/sub/\u0000`,
    `${root}\u0000/sub`,
    '../..',
    '..',
    '.',
    'sub',
    '~',
    '~/..',
    '',
    ' ',
    '\\..\\..',
    'C:\\Windows',
    'file:///etc',
    `${root}/${'a'.repeat(300)}`,
    `${root}/${'x/'.repeat(r.int(2050, 3000))}`,
  ];
}

const BAD_CONTAINER_NAMES = ['', 'a', '-ab', '_ab', '.ab', 'a b', 'a/b', 'ab\u0000', 'ñame', '😀x', '../..', 'a'.repeat(65), 'ab\n'];
const BAD_IMAGES = ['', ':latest', '-x', 'a b', 'img\u0000', 'x'.repeat(256), '../../etc', '/abs', 'ñ:latest'];
const BAD_CONTAINER_PATHS = ['', 'workspace', '/', '//', '/workspace/../etc', '/a/./b', '/a//b', '/ws\u0000', '..', '/..', `/x/${'a'.repeat(4100)}`];
const BAD_ENVS: readonly unknown[] = [
  0,
  true,
  null,
  [],
  ['A=b'],
  'A=b',
  '',
  { A: 1 },
  { A: null },
  { A: true },
  { A: [] },
  { A: {} },
  { '1A': 'x' },
  { '': 'x' },
  { 'A-B': 'x' },
  { 'A B': 'x' },
  { A: 'x\u0000' },
  { 'A\u0000': 'x' },
  { A: 'x'.repeat(32_769) },
  { ['A'.repeat(129)]: 'x' },
  Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`K${i}`, 'v'])),
];

type FieldType = 'string' | 'boolean' | 'env';

interface FieldSpec {
  type: FieldType;
  /** Values that break this field alone. */
  bad: (r: Rng) => unknown;
  /** Statuses for a bad value of this field (path fields may be 403/404). */
  badExpect?: readonly number[];
  /** For host path fields: values that leave the root. */
  escapes?: (r: Rng) => unknown;
  /** A NUL makes this field invalid (not true of free-form names). */
  nulInvalid: boolean;
  maxLength?: number;
}

interface BodyRoute {
  target: Target;
  path: (r: Rng, fx: Fixture) => { path: string; plainId: boolean };
  base: (r: Rng, fx: Fixture) => Record<string, unknown>;
  fields: Record<string, FieldSpec>;
  required: string[];
  /** No body, or a JSON null, counts as `{}` on this route. */
  optionalBody: boolean;
}

function wrongType(type: FieldType, r: Rng): unknown {
  if (type === 'string') return r.pick(WRONG_TYPES);
  if (type === 'boolean') return r.pick([...WRONG_TYPES.filter((v) => typeof v !== 'boolean'), 'true', 'false', '', 'yes']);
  return r.pick([0, 1, true, null, [], ['A=b'], 'A=b', '', { A: 1 }, { A: null }, { A: [] }]);
}

function bodyRoutes(fx: Fixture): BodyRoute[] {
  const hostPathField = (badExpect: readonly number[]): FieldSpec => ({
    type: 'string',
    bad: (r) => r.pick(badHostPaths(fx.root, r)),
    badExpect,
    escapes: (r) => r.pick(escapingHostPaths(fx.root)),
    nulInvalid: true,
    maxLength: 4096,
  });
  const containerName: FieldSpec = { type: 'string', bad: (r) => r.pick(BAD_CONTAINER_NAMES), nulInvalid: true, maxLength: 64 };
  const image: FieldSpec = { type: 'string', bad: (r) => r.pick(BAD_IMAGES), nulInvalid: true, maxLength: 255 };
  const env: FieldSpec = { type: 'env', bad: (r) => r.pick(BAD_ENVS), nulInvalid: true };
  const launchId = (r: Rng) => (r.chance(0.8) ? { path: r.uuid(), plainId: true } : { path: r.pick(oddIds(r, fx, 'catalog')), plainId: false });
  return [
    {
      target: 'POST /api/flexy',
      path: () => ({ path: '/api/flexy', plainId: true }),
      base: (r) => ({
        name: `${fx.prefix}-${r.hex(6)}`,
        ...(r.chance(0.5) ? { image: TEST_IMAGE } : {}),
        ...(r.chance(0.5) ? { hostPath: `${fx.root}/sub` } : {}),
        ...(r.chance(0.3) ? { containerPath: '/workspace' } : {}),
        ...(r.chance(0.3) ? { env: { A: 'b' } } : {}),
        ...(r.chance(0.3) ? { start: false } : {}),
      }),
      fields: {
        name: containerName,
        image,
        hostPath: hostPathField([400, 403]),
        containerPath: { type: 'string', bad: (r) => r.pick(BAD_CONTAINER_PATHS), nulInvalid: true, maxLength: 4096 },
        env,
        start: { type: 'boolean', bad: (r) => wrongType('boolean', r), nulInvalid: true },
      },
      required: ['name'],
      optionalBody: false,
    },
    {
      target: 'POST /api/catalog/flexy',
      path: () => ({ path: '/api/catalog/flexy', plainId: true }),
      base: (r) => ({ name: r.pick([`proj ${r.hex(4)}`, `Projet ${r.pick(HIGH_UNICODE)}`, `p-${r.hex(8)}`]), hostPath: `${fx.root}/sub` }),
      fields: {
        name: { type: 'string', bad: (r) => r.pick(['', '   ', '\t\n\r', 'x'.repeat(65), hugeString(r, 65, 5000)]), nulInvalid: false, maxLength: 64 },
        hostPath: hostPathField([400, 403]),
      },
      required: ['name', 'hostPath'],
      optionalBody: false,
    },
    {
      target: 'POST /api/host/directories',
      path: () => ({ path: '/api/host/directories', plainId: true }),
      base: (r) => (r.chance(0.5) ? {} : { currentPath: `${fx.root}/sub` }),
      fields: { currentPath: hostPathField([400, 403, 404]) },
      required: [],
      optionalBody: true,
    },
    {
      target: 'POST /api/catalog/flexy/:id/launch',
      path: (r) => {
        const id = launchId(r);
        return { path: `/api/catalog/flexy/${id.path}/launch`, plainId: id.plainId };
      },
      base: (r) => ({
        ...(r.chance(0.5) ? { name: `${fx.prefix}-${r.hex(6)}` } : {}),
        ...(r.chance(0.3) ? { image: TEST_IMAGE } : {}),
        ...(r.chance(0.3) ? { env: { A: 'b' } } : {}),
      }),
      fields: { name: containerName, image, env },
      required: [],
      optionalBody: true,
    },
  ];
}

interface BodyShape {
  kind: string;
  body: string | Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
  expect: readonly number[];
  field?: string;
  code?: string;
}

function withContentType(text: string, contentType: string): { body: string | Uint8Array<ArrayBuffer>; headers: Record<string, string> } {
  if (contentType === NO_CONTENT_TYPE) return { body: new TextEncoder().encode(text), headers: {} };
  return { body: text, headers: { 'content-type': contentType } };
}

/** One malformed body for `route`; every branch breaks the body on its own. */
function brokenBody(route: BodyRoute, r: Rng, fx: Fixture): BodyShape {
  const base = route.base(r, fx);
  const names = Object.keys(route.fields);
  const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { ...JSON_CT } });
  const kinds = [
    'wrong-type',
    'bad-value',
    'unknown-field',
    'malformed-json',
    'content-type',
    'oversized',
    'huge-string',
    'nul-byte',
    'array-body',
    'proto-poison',
    'primitive-body',
    'duplicate-key',
    'deep-nesting',
    ...(route.required.length > 0 ? ['missing-required', 'empty-body'] : []),
    ...(names.some((name) => route.fields[name]?.escapes) ? ['path-traversal', 'path-traversal'] : []),
  ];
  const kind = r.pick(kinds);
  switch (kind) {
    case 'wrong-type': {
      const field = r.pick(names);
      const spec = route.fields[field] as FieldSpec;
      return { kind: `${kind}:${field}`, ...json({ ...base, [field]: wrongType(spec.type, r) }), expect: [400], field: `body.${field}` };
    }
    case 'bad-value': {
      const field = r.pick(names);
      const spec = route.fields[field] as FieldSpec;
      return { kind: `${kind}:${field}`, ...json({ ...base, [field]: spec.bad(r) }), expect: spec.badExpect ?? [400], field: `body.${field}` };
    }
    case 'path-traversal': {
      // Leaving KAI_HOST_ROOT is a permission matter, whether or not the target exists.
      const field = r.pick(names.filter((name) => route.fields[name]?.escapes));
      const escapes = route.fields[field]?.escapes as (r: Rng) => unknown;
      return { kind: `${kind}:${field}`, ...json({ ...base, [field]: escapes(r) }), expect: [403], code: 'PERMISSION_DENIED' };
    }
    case 'unknown-field': {
      const key = r.pick(['foo', 'Name', 'NAME', 'host_path', 'hostpath', 'id', 'status', 'containerId', 'createdAt', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', '', ' ', '\u0000', 'a.b', 'a/b', '~0', 'x'.repeat(r.int(100, 5000)), 'ünicode', '😀']);
      return { kind, ...json({ ...base, [key]: r.pick([1, 'x', null, true, [], {}]) }), expect: [400], field: `body.${key}` };
    }
    case 'malformed-json': {
      const full = JSON.stringify(base);
      // A proper prefix of a JSON object is never valid JSON; length >= 1 so it is never "no body".
      const text = r.chance(0.5) ? r.pick(MALFORMED_JSON) : full.slice(0, r.int(1, Math.max(1, full.length - 1)));
      return { kind, body: text, headers: { ...JSON_CT }, expect: [400], field: 'body' };
    }
    case 'content-type': {
      const contentType = r.pick(WRONG_CONTENT_TYPES);
      const text = r.chance(0.7) ? JSON.stringify(base) : `name=${encodeURIComponent(String(base.name ?? 'x'))}&hostPath=%2F`;
      const field = contentType.startsWith('text/plain') ? 'body' : 'headers.content-type';
      return { kind: `${kind}:${contentType}`, ...withContentType(text, contentType), expect: [400], field };
    }
    case 'oversized': {
      const pad = 'p'.repeat(BODY_LIMIT + r.int(1, 64 * 1024));
      const contentType = r.pick(['application/json', 'application/json', 'text/plain']);
      const text = r.chance(0.7) ? JSON.stringify({ ...base, [r.pick(names)]: pad }) : pad;
      return { kind, body: text, headers: { 'content-type': contentType }, expect: [400], field: 'body' };
    }
    case 'huge-string': {
      const field = r.pick(names.filter((name) => route.fields[name]?.maxLength !== undefined));
      const spec = route.fields[field] as FieldSpec;
      const value = hugeString(r, (spec.maxLength ?? 0) + 1, Math.min(60_000, (spec.maxLength ?? 0) * 20));
      return { kind: `${kind}:${field}`, ...json({ ...base, [field]: value }), expect: [400], field: `body.${field}` };
    }
    case 'nul-byte': {
      const field = r.pick(names.filter((name) => route.fields[name]?.nulInvalid));
      const spec = route.fields[field] as FieldSpec;
      const value = spec.type === 'env' ? r.pick([{ A: 'x\u0000y' }, { 'A\u0000': 'x' }]) : `${String(base[field] ?? '/x')}\u0000${r.pick(['', 'x', '/..'])}`;
      return { kind: `${kind}:${field}`, ...json({ ...base, [field]: value }), expect: [400], field: `body.${field}` };
    }
    case 'array-body': {
      const envField = names.includes('env') && r.chance(0.3);
      if (envField) return { kind: `${kind}:env`, ...json({ ...base, env: r.pick([[], [['A', 'b']], [{ A: 'b' }]]) }), expect: [400], field: 'body.env' };
      return { kind, ...json(r.pick([[base], [], [[]], [base, base]])), expect: [400], field: 'body' };
    }
    case 'proto-poison': {
      const inner = JSON.stringify(base).slice(1, -1);
      const sep = inner ? ',' : '';
      const text = r.pick([
        `{"__proto__":{"${POLLUTION_KEY}":true}${sep}${inner}}`,
        `{${inner}${sep}"__proto__":{"${POLLUTION_KEY}":true}}`,
        `{"constructor":{"prototype":{"${POLLUTION_KEY}":true}}${sep}${inner}}`,
        `{${inner}${sep}"env":{"__proto__":{"${POLLUTION_KEY}":"x"}}}`,
        `{"a":{"b":{"__proto__":{"${POLLUTION_KEY}":true}}}${sep}${inner}}`,
        `{"\\u005f\\u005fproto\\u005f\\u005f":{"${POLLUTION_KEY}":true}${sep}${inner}}`,
        `[{"__proto__":{"${POLLUTION_KEY}":true}}]`,
      ]);
      return { kind, body: text, headers: { ...JSON_CT }, expect: [400], field: 'body' };
    }
    case 'primitive-body': {
      const text = r.pick(['"s"', '""', '1', '0', '-0', '1e999', 'true', 'false', ...(route.optionalBody ? [] : ['null'])]);
      return { kind, body: text, headers: { ...JSON_CT }, expect: [400], field: 'body' };
    }
    case 'duplicate-key': {
      const field = r.pick(names);
      const spec = route.fields[field] as FieldSpec;
      const wrong = JSON.stringify(wrongType(spec.type, r));
      const text = `${JSON.stringify({ ...base, [field]: base[field] ?? 'x' }).slice(0, -1)},"${field}":${wrong}}`;
      return { kind: `${kind}:${field}`, body: text, headers: { ...JSON_CT }, expect: [400], field: `body.${field}` };
    }
    case 'deep-nesting': {
      const field = r.pick(names);
      const depth = r.int(1_000, 100_000);
      const nested = r.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(Math.floor(depth / 5))}1${'}'.repeat(Math.floor(depth / 5))}`;
      const inner = JSON.stringify(base).slice(1, -1);
      const text = `{${inner}${inner ? ',' : ''}"${field}":${nested}}`;
      return { kind: `${kind}:${field}`, body: text, headers: { ...JSON_CT }, expect: [400], field: `body.${field}` };
    }
    case 'missing-required': {
      const dropped = r.pick(route.required);
      const rest = Object.fromEntries(Object.entries(base).filter(([key]) => key !== dropped));
      return { kind: `${kind}:${dropped}`, ...json(rest), expect: [400], field: `body.${dropped}` };
    }
    case 'empty-body':
      return { kind, body: r.pick(['', ' ', '\n\t ']), headers: { ...JSON_CT }, expect: [400], field: 'body' };
    default:
      throw new Error(`unknown body kind ${kind}`);
  }
}

/** Odd ids as raw path segments; none names one of this Kai's containers or catalog items. */
function oddIds(r: Rng, fx: Fixture, kind: 'flexy' | 'catalog'): string[] {
  return [
    'a'.repeat(r.int(101, 6000)),
    'x'.repeat(r.int(65, 100)),
    encodeURIComponent(r.pick(HIGH_UNICODE)),
    `${r.hex(4)}${encodeURIComponent(r.pick(HIGH_UNICODE))}`,
    '%00',
    'a%00b',
    '%00%00',
    '%2e%2e',
    '%2E%2E',
    '..',
    '.',
    '%2e',
    '..%2f..%2fetc%2fpasswd',
    '..%5c..',
    '%252e%252e',
    '%',
    '%zz',
    '%C0%AF',
    '%E0%80%AF',
    '%ED%A0%80',
    '%20',
    '+',
    '%09',
    '%0A',
    '%3F',
    '%23',
    '*',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'prototype',
    'escape',
    'loop',
    '-rf',
    '--force',
    'a;b',
    'a,b',
    "a'b",
    'a%22b',
    '%24(id)',
    '%60id%60',
    // >= 12 hex digits: a shorter prefix may be ambiguous on a busy engine (see the ambiguous-prefix test below).
    r.hex(r.int(12, 64)),
    kind === 'catalog' ? r.uuid() : r.hex(64),
    ...(kind === 'flexy' ? fx.decoys.flatMap((d) => [d.id, d.id.slice(0, 12), d.name]) : []),
  ];
}

function junkQuery(r: Rng): string {
  if (!r.chance(0.3)) return '';
  return `?${r.pick(['limit=abc', 'x=1', '__proto__=1', 'a[b]=c', '%zz=1', 'force=true', `q=${'z'.repeat(r.int(1, 2000))}`])}`;
}

function extraHeaders(r: Rng): Record<string, string> {
  if (!r.chance(0.3)) return {};
  return r.pick<Record<string, string>>([
    { accept: 'text/html' },
    { accept: 'application/xml' },
    { 'x-forwarded-for': '../../etc' },
    { 'user-agent': `fuzz/${'\u00ff'.repeat(3)}` },
    { 'accept-language': '*'.repeat(500) },
    { 'x-http-method-override': 'DELETE' },
  ]);
}

const ID_ROUTES: Partial<Record<Target, { method: string; prefix: string; suffix: string; kind: 'flexy' | 'catalog' }>> = {
  'GET /api/flexy/:id': { method: 'GET', prefix: '/api/flexy/', suffix: '', kind: 'flexy' },
  'DELETE /api/flexy/:id': { method: 'DELETE', prefix: '/api/flexy/', suffix: '', kind: 'flexy' },
  'POST /api/flexy/:id/start': { method: 'POST', prefix: '/api/flexy/', suffix: '/start', kind: 'flexy' },
  'POST /api/flexy/:id/stop': { method: 'POST', prefix: '/api/flexy/', suffix: '/stop', kind: 'flexy' },
  'POST /api/flexy/:id/restart': { method: 'POST', prefix: '/api/flexy/', suffix: '/restart', kind: 'flexy' },
  'DELETE /api/catalog/flexy/:id': { method: 'DELETE', prefix: '/api/catalog/flexy/', suffix: '', kind: 'catalog' },
};

/** Paths with no route for the method used (the rest of the route is fine). */
const WRONG_METHOD: Partial<Record<Target, { paths: string[]; methods: string[] }>> = {
  'GET /api/catalog/flexy': {
    paths: ['/api/catalog/flexy', '/api/catalog/flexy/', '/api/catalog/flexy/..', '/api/catalog/Flexy', '/api/catalog/flexy%00', '/api/catalog//flexy', '/api/catalog/flexy;x', '/api/catalog/flexy/%2e%2e'],
    methods: ['PUT', 'PATCH', 'OPTIONS', 'DELETE'],
  },
  'GET /api/health': {
    paths: ['/api/health', '/api/health/', '/api/Health', '/api/healthz', '/api/health%00', '/api/health;x', '/api//health', '/api/health/..', '/api/health/%2e%2e', '/api/health%20'],
    methods: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  },
  'GET /api/ready': {
    paths: ['/api/ready', '/api/ready/', '/api/READY', '/api/readyz', '/api/ready%00', '/api/ready;x', '/api//ready', '/api/ready/..', '/api/ready/%2e%2e'],
    methods: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  },
};

const UNKNOWN_PATHS = [
  '/',
  '/api',
  '/api/',
  '/api/flexies',
  '/API/FLEXY',
  '/api/Flexy',
  '/api/flexy/x/pause',
  '/api/flexy/x/START',
  '/api/flexy/x/start/now',
  '/api/flexy/x/y/z',
  '/api/catalog',
  '/api/catalog/flexy/x/launch/now',
  '/api/catalog/flexy/x/y',
  '/api/host',
  '/api/host/files',
  '/api/host/directories/x',
  '/openapi.json/x',
  '/documentation',
  '/api/v1/flexy',
  '/.env',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/../../etc/passwd',
  '/api/%00',
  '/favicon.ico',
  '/api/../api/health',
  '/api/./health',
  '/api/flexy\\..\\health',
];

function bodyFor(method: string, r: Rng): { body?: string | Uint8Array<ArrayBuffer>; headers: Record<string, string>; withBody: boolean } {
  if (method === 'GET' || !r.chance(0.4)) return { headers: {}, withBody: false };
  const contentType = r.pick(['application/json', 'application/json', ...WRONG_CONTENT_TYPES]);
  const text = r.pick(['{"name":"x"}', '{bad', '[]', 'null', `{"__proto__":{"${POLLUTION_KEY}":1}}`, 'x'.repeat(r.int(1, 1000))]);
  return { ...withContentType(text, contentType), withBody: true };
}

/** A query for GET /api/flexy with at least one bad key or value. */
function listQuery(r: Rng): string {
  const bad: Array<[string, string]> = [
    ...['0', '101', '-1', 'abc', '1.5', '', '-0.5', '1e3', '1001', '9'.repeat(r.int(3, 2000)), 'null', 'true', '[]', '10abc', '%00', '%C0%AF', 'Infinity', 'NaN', '-0'].map(
      (v) => ['limit', v] as [string, string],
    ),
    ...['-5', '-1', 'abc', '1.5', '', '1000001', '1e7', 'x', '%00', '-0.1'].map((v) => ['offset', v] as [string, string]),
    ...['bogus', 'RUNNING', 'Running', 'error', 'removing', '', 'running,stopped', 'running%00', '%20running', 'exited', 'dead', 'all', '*', 'null'].map(
      (v) => ['status', v] as [string, string],
    ),
    ...['foo', 'Limit', 'LIMIT', 'page', 'sort', '__proto__', 'constructor', 'prototype', 'status%5B%5D', 'limit[]', 'limit.x', '%00', 'a'.repeat(r.int(1, 3000)), 'x%20y', 'filter[status]', ''].map(
      (k) => [k, r.pick(['1', 'x', '', 'running'])] as [string, string],
    ),
  ];
  const good: Array<[string, string]> = [['limit', '5'], ['offset', '0'], ['status', 'running'], ['limit', '100'], ['offset', '3']];
  const chosenBad = Array.from({ length: r.int(1, 3) }, () => r.pick(bad));
  // A valid value for a key that is also given a bad one makes an array, which is invalid too.
  const chosenGood = Array.from({ length: r.int(0, 2) }, () => r.pick(good));
  return r.shuffle([...chosenBad, ...chosenGood]).map(([k, v]) => `${k}=${v}`).join('&');
}

function generate(fx: Fixture, seed: number): Case[] {
  const r = new Rng(seed);
  const routes = new Map(bodyRoutes(fx).map((route) => [route.target, route]));
  const cases: Case[] = [];
  for (let round = 0; round < PER_TARGET; round++) {
    for (const target of TARGETS) {
      const n = cases.length;
      const route = routes.get(target);
      if (route) {
        const { path: routePath, plainId } = route.path(r, fx);
        const shape = brokenBody(route, r, fx);
        // An odd launch id may fail first (400) or after the body (404 unknown item).
        const expect = plainId ? shape.expect : [400, 404];
        cases.push({
          n,
          target,
          kind: shape.kind,
          method: 'POST',
          path: `${routePath}${junkQuery(r)}`,
          headers: { ...extraHeaders(r), ...shape.headers },
          body: shape.body,
          expect,
          ...(plainId && shape.field ? { expectField: shape.field } : {}),
          ...(plainId && shape.code ? { expectCode: shape.code } : {}),
        });
        continue;
      }
      const idRoute = ID_ROUTES[target];
      if (idRoute) {
        const decoy = idRoute.kind === 'flexy' && r.chance(0.15);
        const id = decoy ? r.pick(fx.decoys.flatMap((d) => [d.id, d.id.slice(0, 12), d.name])) : r.pick(oddIds(r, fx, idRoute.kind));
        const extra = bodyFor(idRoute.method, r);
        cases.push({
          n,
          target,
          kind: decoy ? 'foreign-container' : 'odd-id',
          method: idRoute.method,
          path: `${idRoute.prefix}${id}${idRoute.suffix}${junkQuery(r)}`,
          headers: { ...extraHeaders(r), ...extra.headers },
          ...(extra.body !== undefined ? { body: extra.body } : {}),
          expect: decoy && !extra.withBody ? [404] : [400, 404],
          ...(decoy && !extra.withBody ? { expectCode: 'CONTAINER_NOT_FOUND' } : {}),
        });
        continue;
      }
      const wrong = WRONG_METHOD[target];
      if (wrong) {
        const routePath = r.pick(wrong.paths);
        // The exact path only with a method it lacks; look-alike paths with any method.
        const method = routePath === wrong.paths[0] ? r.pick(wrong.methods) : r.pick(['GET', ...wrong.methods]);
        const extra = bodyFor(method, r);
        cases.push({
          n,
          target,
          kind: routePath === wrong.paths[0] ? 'wrong-method' : 'look-alike-path',
          method,
          path: routePath,
          headers: { ...extraHeaders(r), ...extra.headers },
          ...(extra.body !== undefined ? { body: extra.body } : {}),
          // A look-alike may still hit a parametric route (DELETE /api/catalog/flexy/ is an empty id: 400).
          expect: extra.withBody || routePath !== wrong.paths[0] ? [400, 404] : [404],
        });
        continue;
      }
      if (target === 'GET /api/flexy') {
        cases.push({ n, target, kind: 'bad-query', method: 'GET', path: `/api/flexy?${listQuery(r)}`, headers: extraHeaders(r), expect: [400], expectField: 'query' });
        continue;
      }
      // Unknown routes: fixed oddities and random segments that cannot match a route.
      const method = r.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
      const routePath = r.chance(0.6)
        ? r.pick(UNKNOWN_PATHS)
        : `/${r.pick(['api/zz', 'zz', 'api/flexy/x/zz'])}-${r.hex(4)}/${encodeURIComponent(r.pick([...HIGH_UNICODE, 'a b', '%', '<script>', r.hex(r.int(1, 500))]))}`;
      const extra = bodyFor(method, r);
      cases.push({
        n,
        target,
        kind: 'unknown-route',
        method,
        path: `${routePath}${junkQuery(r)}`,
        headers: { ...extraHeaders(r), ...extra.headers },
        ...(extra.body !== undefined ? { body: extra.body } : {}),
        expect: [400, 404],
      });
    }
  }
  return cases;
}

// ---------------------------------------------------------------- transport

/** fetch normalizes dot segments and backslashes; such paths go out verbatim through node:http. */
function needsRawPath(target: string): boolean {
  const pathOnly = target.split('?')[0] ?? '';
  return /[.\\]|%2e/i.test(pathOnly);
}

async function sendFetch(base: string, c: Case, auth: Record<string, string>): Promise<Answer> {
  const init: RequestInit = { method: c.method, headers: { ...c.headers, ...auth }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
  if (c.body !== undefined) init.body = c.body;
  const response = await fetch(`${base}${c.path}`, init);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

function sendHttp(port: number, c: Case, auth: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = c.body === undefined ? undefined : typeof c.body === 'string' ? Buffer.from(c.body) : Buffer.from(c.body);
    const headers: Record<string, string | number> = { ...c.headers, ...auth };
    // Always framed: node sends a GET body unframed otherwise.
    if (body) headers['content-length'] = body.length;
    const request = http.request({ host: '127.0.0.1', port, method: c.method, path: c.path, headers, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('no answer in time')));
    request.on('error', reject);
    request.end(body);
  });
}

// ---------------------------------------------------------------- checks

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function leaksInternals(text: string): string | undefined {
  if (text.includes('    at ') || /\\n\s+at /.test(text)) return 'contains a stack trace';
  if (text.includes('node_modules')) return 'mentions node_modules';
  if (/\.(ts|js|mjs|cjs):\d+/.test(text)) return 'mentions a source file position';
  return undefined;
}

/** Problems with one answer, or [] when it is a correct error envelope. */
function checkAnswer(c: Case, answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`status ${answer.status} is a server error`);
  if (!c.expect.includes(answer.status)) problems.push(`status ${answer.status}, expected one of ${c.expect.join('/')}`);
  const leak = leaksInternals(answer.text);
  if (leak) problems.push(leak);
  if (!answer.contentType.startsWith('application/json')) problems.push(`content-type "${answer.contentType}"`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    problems.push('body is not JSON');
    return problems;
  }
  if (!isRecord(parsed)) return [...problems, 'body is not an object'];
  const keys = Object.keys(parsed).sort().join(',');
  if (keys !== 'error,success,timestamp') problems.push(`envelope keys are ${keys}`);
  if (parsed.success !== false) problems.push('success is not false');
  if (typeof parsed.timestamp !== 'string' || !ISO_8601.test(parsed.timestamp) || Number.isNaN(Date.parse(parsed.timestamp))) {
    problems.push(`timestamp ${JSON.stringify(parsed.timestamp)} is not ISO-8601`);
  }
  const error = parsed.error;
  if (!isRecord(error)) return [...problems, 'error is not an object'];
  const errorKeys = Object.keys(error).sort().join(',');
  if (errorKeys !== 'code,details,message') problems.push(`error keys are ${errorKeys}`);
  const code = String(error.code);
  if (!ERROR_CODES.includes(code)) problems.push(`error code ${code} is not a client error code`);
  else if (STATUS_OF[code] !== answer.status) problems.push(`code ${code} with status ${answer.status}`);
  if (c.expectCode && code !== c.expectCode) problems.push(`code ${code}, expected ${c.expectCode}`);
  if (typeof error.message !== 'string' || error.message.length === 0) problems.push('error.message is not a non-empty string');
  if (!isRecord(error.details)) return [...problems, 'error.details is not an object'];
  if (answer.status === 400 && code === 'VALIDATION_ERROR') {
    const fields = error.details.fields;
    const named = Array.isArray(fields)
      ? fields.filter((f): f is { field: string; message: string } => isRecord(f) && typeof f.field === 'string' && f.field.length > 0 && typeof f.message === 'string')
      : [];
    if (named.length === 0) problems.push('400 VALIDATION_ERROR names no field in details.fields[].field');
    else if (c.expectField && !named.some((f) => f.field.startsWith(c.expectField as string))) {
      problems.push(`fields ${named.map((f) => f.field).join(', ')} do not name ${c.expectField}`);
    }
  }
  return problems;
}

function preview(value: string | Uint8Array | undefined, max: number): string {
  if (value === undefined) return '(no body)';
  const text = typeof value === 'string' ? value : `[bytes] ${Buffer.from(value).toString('utf8')}`;
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);
}

function describeCase(c: Case): string {
  const target = c.path.length > 160 ? `${c.path.slice(0, 160)}…(${c.path.length} chars)` : c.path;
  return `#${c.n} [${c.target} / ${c.kind}] ${c.method} ${target} headers=${JSON.stringify(c.headers)} body=${preview(c.body, 160)}`;
}

// ---------------------------------------------------------------- raw HTTP framing

interface RawAnswer {
  status: number;
  text: string;
}

/** Sends bytes on a fresh socket and parses the first HTTP response, if any. */
function rawExchange(port: number, bytes: Buffer, halfClose: boolean): Promise<RawAnswer | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks).toString('latin1');
      const headEnd = all.indexOf('\r\n\r\n');
      const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(all);
      if (headEnd < 0 || !statusLine) return resolve(undefined);
      const head = all.slice(0, headEnd);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const rest = Buffer.from(all.slice(headEnd + 4), 'latin1');
      const body = length ? rest.subarray(0, Number(length[1])) : rest;
      resolve({ status: Number(statusLine[1]), text: body.toString('utf8') });
    };
    const timer = setTimeout(finish, 5_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks).toString('latin1');
      const headEnd = all.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(all.slice(0, Math.max(0, headEnd)));
      if (headEnd >= 0 && length && Buffer.byteLength(all, 'latin1') >= headEnd + 4 + Number(length[1])) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
    socket.write(bytes);
    if (halfClose) socket.end();
  });
}

interface FramingCase {
  label: string;
  bytes: Buffer;
  halfClose: boolean;
}

function framingCases(r: Rng, token: string): FramingCase[] {
  const auth = `Authorization: Bearer ${token}\r\n`;
  const routes = ['/api/flexy', '/api/catalog/flexy', '/api/host/directories', '/api/catalog/flexy/x/launch'];
  const cases: FramingCase[] = [];
  for (let i = 0; i < 2; i++) {
    const route = r.pick(routes);
    const json = '{"name":"framing","hostPath":"/"}';
    const head = (extra: string) => Buffer.from(`POST ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\n${extra}\r\n`, 'latin1');
    cases.push(
      { label: `${route}: Content-Length larger than the body, then EOF`, bytes: Buffer.concat([head(`Content-Length: ${json.length + r.int(1, 500)}\r\n`), Buffer.from(json)]), halfClose: true },
      { label: `${route}: Content-Length smaller than the body`, bytes: Buffer.concat([head(`Content-Length: ${r.int(1, 10)}\r\nConnection: close\r\n`), Buffer.from(json)]), halfClose: false },
      { label: `${route}: Content-Length not a number`, bytes: Buffer.concat([head('Content-Length: abc\r\n'), Buffer.from(json)]), halfClose: false },
      { label: `${route}: negative Content-Length`, bytes: Buffer.concat([head('Content-Length: -1\r\n'), Buffer.from(json)]), halfClose: false },
      { label: `${route}: two different Content-Lengths`, bytes: Buffer.concat([head(`Content-Length: ${json.length}\r\nContent-Length: 3\r\n`), Buffer.from(json)]), halfClose: false },
      { label: `${route}: Content-Length with chunked encoding`, bytes: Buffer.concat([head('Content-Length: 4\r\nTransfer-Encoding: chunked\r\n'), Buffer.from('0\r\n\r\n')]), halfClose: false },
      { label: `${route}: bad chunk size`, bytes: Buffer.concat([head('Transfer-Encoding: chunked\r\n'), Buffer.from('zz\r\n{}\r\n0\r\n\r\n')]), halfClose: false },
    );
  }
  cases.push(
    { label: 'request target without a leading slash', bytes: Buffer.from('GET api/health HTTP/1.1\r\nHost: x\r\n\r\n'), halfClose: false },
    { label: 'space inside the request target', bytes: Buffer.from('GET /api/fle xy HTTP/1.1\r\nHost: x\r\n\r\n'), halfClose: false },
    { label: 'URL over the 16 KiB header limit', bytes: Buffer.from(`GET /api/flexy/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), halfClose: false },
    { label: 'header over the 16 KiB header limit', bytes: Buffer.from(`GET /api/flexy HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`), halfClose: false },
    { label: 'NUL in a header value', bytes: Buffer.from('GET /api/flexy HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n', 'latin1'), halfClose: false },
    { label: 'unknown HTTP version', bytes: Buffer.from('GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n'), halfClose: false },
  );
  return cases;
}

// ---------------------------------------------------------------- the tests

function snapshot(root: string): string {
  const entries = readdirSync(root, { withFileTypes: true })
    .map((entry) => {
      const full = path.join(root, entry.name);
      if (entry.isSymbolicLink()) return `${entry.name} -> ${readlinkSync(full)}`;
      if (entry.isDirectory()) return `${entry.name}/ [${readdirSync(full).sort().join(',')}]`;
      return `${entry.name} = ${readFileSync(full, 'utf8')}`;
    })
    .sort();
  return entries.join('\n');
}

describe('robustness: generated malformed requests', () => {
  let kai: TestKai;
  let fixture: Fixture;
  let hostSnapshot: string;
  const decoyNames: string[] = [];
  const framingAnswers: Array<{ label: string; answer: RawAnswer | undefined }> = [];

  before(async () => {
    kai = await startKai();
    const root = kai.hostRoot;
    mkdirSync(path.join(root, 'sub', 'inner'), { recursive: true });
    writeFileSync(path.join(root, 'file.txt'), 'keep me');
    symlinkSync('/', path.join(root, 'escape'));
    symlinkSync(path.dirname(root), path.join(root, 'escape-up'));
    symlinkSync('loop', path.join(root, 'loop'));
    symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));
    // A sibling whose name starts with the root's: a bare prefix check would let it in.
    mkdirSync(`${root}-evil/inside`, { recursive: true });
    symlinkSync(`${root}-evil`, path.join(root, 'evil-link'));
    hostSnapshot = snapshot(root);

    // Containers on the same engine that are not this Kai's: it must neither see nor touch them.
    const decoys: Fixture['decoys'] = [];
    for (const labels of [{}, { 'kai.managed': 'true', 'kai.instance': `other-${uniqueId()}` }] as Array<Record<string, string>>) {
      const name = `${kai.prefix}-decoy-${uniqueId()}`;
      decoyNames.push(name);
      const container = await docker.createContainer({ name, Image: TEST_IMAGE, Cmd: ['sleep', '600'], Labels: labels });
      decoys.push({ id: container.id, name });
    }
    fixture = { root, prefix: kai.prefix, decoys };
  });

  after(async () => {
    await removeByName(...decoyNames);
    if (fixture) rmSync(`${fixture.root}-evil`, { recursive: true, force: true });
    await kai?.close();
  });

  it(`answers at least 500 generated invalid requests with the error envelope (seed ${SEED})`, { timeout: 120_000 }, async (t) => {
    const cases = generate(fixture, SEED);
    assert.ok(cases.length >= 500, `only ${cases.length} requests generated`);
    for (const target of TARGETS) {
      assert.ok(cases.filter((c) => c.target === target).length >= 30, `too few requests for ${target}`);
    }
    const port = Number(new URL(kai.url).port);
    // As the admin: the requests are meant to reach each route's input handling, not stop at the auth guard.
    const auth = { authorization: `Bearer ${kai.admin.token}` };
    const failures: string[] = [];
    const tally = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const c = cases[next++] as Case;
          let answer: Answer;
          try {
            answer = needsRawPath(c.path) ? await sendHttp(port, c, auth) : await sendFetch(kai.url, c, auth);
          } catch (error) {
            failures.push(`${describeCase(c)}\n    -> no answer: ${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`);
            continue;
          }
          const code = /"code":"([A-Z_]+)"/.exec(answer.text)?.[1] ?? '-';
          tally.set(`${answer.status} ${code}`, (tally.get(`${answer.status} ${code}`) ?? 0) + 1);
          const problems = checkAnswer(c, answer);
          if (problems.length > 0) {
            failures.push(`${describeCase(c)}\n    -> ${answer.status} ${preview(answer.text, 400)}\n    !! ${problems.join('; ')}`);
          }
        }
      }),
    );
    t.diagnostic(`${cases.length} requests: ${[...tally].sort().map(([key, count]) => `${key} x${count}`).join(', ')}`);
    failures.sort((a, b) => Number(/^#(\d+)/.exec(a)?.[1]) - Number(/^#(\d+)/.exec(b)?.[1]));
    assert.equal(
      failures.length,
      0,
      `seed ${SEED} (rerun: KAI_ROBUSTNESS_SEED=${SEED}): ${failures.length} of ${cases.length} requests answered wrongly:\n${failures.slice(0, 15).join('\n')}`,
    );
  });

  it('answers malformed HTTP framing (lying Content-Length and the like) with a 4xx JSON answer', { timeout: 60_000 }, async () => {
    const port = Number(new URL(kai.url).port);
    const cases = framingCases(new Rng(SEED ^ 0x9e3779b9), kai.admin.token);
    const failures: string[] = [];
    for (const c of cases) {
      const answer = await rawExchange(port, c.bytes, c.halfClose);
      framingAnswers.push({ label: c.label, answer });
      if (!answer) {
        failures.push(`${c.label}: no HTTP answer`);
        continue;
      }
      const problems: string[] = [];
      if (answer.status < 400 || answer.status >= 500) problems.push(`status ${answer.status}`);
      const leak = leaksInternals(answer.text);
      if (leak) problems.push(leak);
      try {
        JSON.parse(answer.text);
      } catch {
        problems.push('body is not JSON');
      }
      if (problems.length > 0) failures.push(`${c.label}: ${answer.status} ${preview(answer.text, 300)} !! ${problems.join('; ')}`);
    }
    assert.equal(failures.length, 0, `seed ${SEED}:\n${failures.join('\n')}`);
  });

  it(
    'answers malformed HTTP framing in the error envelope too',
    () => {
      assert.ok(framingAnswers.length > 0, 'the framing test did not run');
      const failures: string[] = [];
      for (const { label, answer } of framingAnswers) {
        if (!answer) continue; // the test above reports a missing answer
        const c: Case = { n: 0, target: 'unknown route', kind: 'framing', method: '-', path: label, headers: {}, expect: [400, 404, 408, 413, 414, 431] };
        const problems = checkAnswer(c, { status: answer.status, contentType: 'application/json', text: answer.text });
        if (problems.length > 0) failures.push(`${label}: ${answer.status} ${answer.text.slice(0, 120)}`);
      }
      assert.equal(failures.length, 0, `${failures.length} of ${framingAnswers.length} answers are not the envelope:\n${failures.join('\n')}`);
    },
  );

  it(
    'does not answer 5xx for an id prefix that is ambiguous among other containers on the engine',
    { timeout: 60_000 },
    async () => {
      // Find (or make, with throwaway containers) a one-character prefix shared by two foreign containers.
      const made: string[] = [];
      try {
        let prefix: string | undefined;
        for (let attempt = 0; attempt <= 17 && prefix === undefined; attempt++) {
          const ids = (await docker.listContainers({ all: true })).map((c) => c.Id);
          const counts = new Map<string, number>();
          for (const id of ids) counts.set(id[0] as string, (counts.get(id[0] as string) ?? 0) + 1);
          prefix = [...counts].find(([, count]) => count >= 2)?.[0];
          if (prefix === undefined) {
            const name = `${kai.prefix}-prefix-${uniqueId()}`;
            made.push(name);
            await docker.createContainer({ name, Image: TEST_IMAGE, Cmd: ['true'] });
          }
        }
        assert.ok(prefix !== undefined, 'could not find an ambiguous id prefix');
        const response = await kai.request('GET', `/api/flexy/${prefix}`);
        const problems = checkAnswer(
          { n: 0, target: 'GET /api/flexy/:id', kind: 'ambiguous-prefix', method: 'GET', path: `/api/flexy/${prefix}`, headers: {}, expect: [400, 404] },
          { status: response.status, contentType: response.headers.get('content-type') ?? '', text: JSON.stringify(response.body) },
        );
        assert.equal(problems.length, 0, `GET /api/flexy/${prefix} -> ${response.status} ${JSON.stringify(response.body)}: ${problems.join('; ')}`);
      } finally {
        await removeByName(...made);
      }
    },
  );

  it('is still alive and created, changed or lost nothing', async () => {
    const health = await kai.request('GET', '/api/health');
    assert.equal(health.status, 200, JSON.stringify(health.body));
    assert.equal(health.body.success, true);

    const list = await kai.request('GET', '/api/flexy?limit=100');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.data.total, 0, `containers were created: ${JSON.stringify(list.body.data.containers)}`);

    const catalog = await kai.request('GET', '/api/catalog/flexy');
    assert.equal(catalog.status, 200, JSON.stringify(catalog.body));
    assert.deepEqual(catalog.body.data.items, []);
    assert.deepEqual(kai.db.prepare('SELECT COUNT(*) AS n FROM catalog_items').get(), { n: 0 });

    const owned = await docker.listContainers({ all: true, filters: { label: [`kai.instance=${kai.instance}`] } });
    assert.deepEqual(owned.map((c) => c.Names), [], 'the engine holds containers of this Kai');
    const networks = await docker.listNetworks({ filters: { name: [kai.config.dockerNetwork] } });
    assert.deepEqual(networks.filter((n) => n.Name === kai.config.dockerNetwork).map((n) => n.Name), [], 'a malformed request made Kai create its network');

    // The foreign containers were neither removed nor started.
    for (const decoy of fixture.decoys) {
      const info = await docker.getContainer(decoy.id).inspect();
      assert.equal(info.State.Status, 'created', `decoy ${decoy.name} was touched`);
    }
    assert.equal(snapshot(fixture.root), hostSnapshot, 'the host root changed');
    assert.deepEqual(readdirSync(`${fixture.root}-evil`), ['inside'], 'the folder outside the root changed');
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, POLLUTION_KEY), false, 'Object.prototype was polluted');
    assert.equal(({} as Record<string, unknown>)[POLLUTION_KEY], undefined);
  });
});
