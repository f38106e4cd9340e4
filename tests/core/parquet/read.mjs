// The independent reader of parquet_test: prints each row of a Parquet file as one JSON line, read by
// hyparquet (with hyparquet-compressors for zstd), so that the test compares it with what tamis wrote.
// Usage: node read.mjs NODE_MODULES FILE.parquet
// int64 values (BigInt) are printed as their digits; JSON-typed columns as the parsed value.
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [modules, file] = process.argv.slice(2)
const load = async name => import(pathToFileURL(createRequire(path.join(modules, 'x.js')).resolve(name)).href)
const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await load('hyparquet')
const { compressors } = await load('hyparquet-compressors')

function text(v) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null'
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v)
  if (v instanceof Date) return JSON.stringify(v.toISOString())
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return '[' + Array.from(v, text).join(',') + ']'
  return '{' + Object.entries(v).map(([k, x]) => JSON.stringify(k) + ':' + text(x)).join(',') + '}'
}

const buffer = await asyncBufferFromFile(file)
const metadata = await parquetMetadataAsync(buffer)
const rows = await parquetReadObjects({ file: buffer, metadata, compressors })
const out = [`# rows ${metadata.num_rows} row_groups ${metadata.row_groups.length}`]
for (const row of rows) out.push(text(row))
process.stdout.write(out.join('\n') + '\n')
