// The independent side of parquet_recipe_test (npm's hyparquet-writer and hyparquet, not DuckDB):
//
//   node hf_parquet.mjs write NODE_MODULES IN.jsonl OUT.parquet ROWS_PER_GROUP
//     writes a JSONL dataset as the Hugging Face hub's auto-converted Parquet lays it out: the same
//     top-level columns in order of first appearance, all optional; strings as UTF8 byte arrays, booleans,
//     integers as INT64, other numbers as DOUBLE; objects as struct groups and arrays as 3-level LIST
//     groups (list / element), as pyarrow writes them; snappy; row groups of ROWS_PER_GROUP rows (the
//     `datasets` library writes 1,000 for text sets); the `huggingface` key-value metadata with the
//     features. The types are inferred from all rows (a field never seen with a value is a string).
//
//   node hf_parquet.mjs read NODE_MODULES FILE.parquet
//     prints one JSON line {"rows": N, "row_groups": [sizes], "columns": {"name": "type"}, "kv": [keys]},
//     the types written as `string`, `bool`, `int64`, `double`, `json`, `list<T>`,
//     `struct<name: T, ...>`; then each row as one JSON line (int64 values as numbers of all their digits).
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [mode, modules, ...args] = process.argv.slice(2)
const load = async name => import(pathToFileURL(createRequire(path.join(modules, 'x.js')).resolve(name)).href)

// ---- write ----

// A type: {kind: 'string'|'bool'|'int64'|'double'|'null'} | {kind: 'struct', fields: Map} | {kind: 'list', element}.
function unify(type, value) {
  if (value === null || value === undefined) return type
  let seen
  if (typeof value === 'string') seen = { kind: 'string' }
  else if (typeof value === 'boolean') seen = { kind: 'bool' }
  else if (typeof value === 'number') seen = { kind: Number.isInteger(value) ? 'int64' : 'double' }
  else if (Array.isArray(value)) {
    let element = type?.kind === 'list' ? type.element : { kind: 'null' }
    for (const v of value) element = unify(element, v)
    seen = { kind: 'list', element }
  } else {
    const fields = type?.kind === 'struct' ? type.fields : new Map()
    for (const [k, v] of Object.entries(value)) fields.set(k, unify(fields.get(k) ?? { kind: 'null' }, v))
    seen = { kind: 'struct', fields }
  }
  if (!type || type.kind === 'null') return seen
  if (type.kind === seen.kind) return seen
  if ((type.kind === 'int64' && seen.kind === 'double') || (type.kind === 'double' && seen.kind === 'int64')) return { kind: 'double' }
  throw new Error(`mixed types ${type.kind} and ${seen.kind}: not a layout an HF set has`)
}

// The schema elements of one field, depth first (Parquet's flat schema list).
function elements(name, type) {
  switch (type.kind) {
  case 'null':
  case 'string': return [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }]
  case 'bool': return [{ name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' }]
  case 'int64': return [{ name, type: 'INT64', repetition_type: 'OPTIONAL' }]
  case 'double': return [{ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' }]
  case 'list': return [
    { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    ...elements('element', type.element),
  ]
  case 'struct': return [
    { name, repetition_type: 'OPTIONAL', num_children: type.fields.size },
    ...[...type.fields].flatMap(([k, t]) => elements(k, t)),
  ]
  }
  throw new Error(`unknown type ${type.kind}`)
}

// The `datasets` library's features (what the hub stores in the `huggingface` metadata key).
function feature(type) {
  switch (type.kind) {
  case 'list': return { feature: feature(type.element), _type: 'Sequence' }
  case 'struct': return Object.fromEntries([...type.fields].map(([k, t]) => [k, feature(t)]))
  case 'bool': return { dtype: 'bool', _type: 'Value' }
  case 'int64': return { dtype: 'int64', _type: 'Value' }
  case 'double': return { dtype: 'float64', _type: 'Value' }
  default: return { dtype: 'string', _type: 'Value' }
  }
}

// Integers go to INT64 columns as BigInt.
function cast(value, type) {
  if (value === null || value === undefined) return null
  if (type.kind === 'int64') return BigInt(value)
  if (type.kind === 'list') return value.map(v => cast(v, type.element))
  if (type.kind === 'struct') {
    const out = {}
    for (const [k, t] of type.fields) out[k] = cast(value[k], t)
    return out
  }
  return value
}

async function write([input, output, rowsPerGroup]) {
  const { parquetWriteFile } = await load('hyparquet-writer')
  const rows = fs.readFileSync(input, 'utf8').split('\n').filter(line => line.trim() !== '').map(line => JSON.parse(line))
  const columns = new Map()
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) columns.set(k, unify(columns.get(k) ?? { kind: 'null' }, v))
  }
  const schema = [{ name: 'schema', num_children: columns.size }, ...[...columns].flatMap(([k, t]) => elements(k, t))]
  const features = Object.fromEntries([...columns].map(([k, t]) => [k, feature(t)]))
  parquetWriteFile({
    filename: output,
    schema,
    columnData: [...columns].map(([k, t]) => ({ name: k, data: rows.map(row => cast(row[k], t)) })),
    codec: 'SNAPPY',
    rowGroupSize: Number(rowsPerGroup),
    kvMetadata: [{ key: 'huggingface', value: JSON.stringify({ info: { features } }) }],
  })
}

// ---- read ----

function typeText(node) {
  const e = node.element
  if (!node.children.length) {
    if (e.converted_type === 'UTF8' || e.logical_type?.type === 'STRING') return 'string'
    if (e.converted_type === 'JSON' || e.logical_type?.type === 'JSON') return 'json'
    return { BOOLEAN: 'bool', INT32: 'int32', INT64: 'int64', FLOAT: 'float', DOUBLE: 'double' }[e.type] ?? e.type.toLowerCase()
  }
  if (e.converted_type === 'LIST' || e.logical_type?.type === 'LIST') {
    const repeated = node.children[0]
    return `list<${typeText(repeated.children.length === 1 ? repeated.children[0] : repeated)}>`
  }
  return `struct<${node.children.map(c => `${c.element.name}: ${typeText(c)}`).join(', ')}>`
}

function text(v) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null'
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v)
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return '[' + Array.from(v, text).join(',') + ']'
  return '{' + Object.entries(v).map(([k, x]) => JSON.stringify(k) + ':' + text(x)).join(',') + '}'
}

async function read([file]) {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } = await load('hyparquet')
  const { compressors } = await load('hyparquet-compressors')
  const buffer = await asyncBufferFromFile(file)
  const metadata = await parquetMetadataAsync(buffer)
  const tree = parquetSchema(metadata)
  const head = {
    rows: Number(metadata.num_rows),
    row_groups: metadata.row_groups.map(g => Number(g.num_rows)),
    columns: Object.fromEntries(tree.children.map(c => [c.element.name, typeText(c)])),
    kv: (metadata.key_value_metadata ?? []).map(kv => kv.key),
  }
  const rows = await parquetReadObjects({ file: buffer, metadata, compressors })
  process.stdout.write([JSON.stringify(head), ...rows.map(text)].join('\n') + '\n')
}

if (mode === 'write') await write(args)
else if (mode === 'read') await read(args)
else throw new Error(`usage: node hf_parquet.mjs write|read NODE_MODULES ...`)
