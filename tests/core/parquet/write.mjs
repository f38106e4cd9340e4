// The independent writer of parquet_test: hyparquet-writer writes a small Parquet file (snappy) that
// tamis's reader must read back with the same values.
// Usage: node write.mjs NODE_MODULES OUT.parquet
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [modules, file] = process.argv.slice(2)
const load = async name => import(pathToFileURL(createRequire(path.join(modules, 'x.js')).resolve(name)).href)
const { parquetWriteFile } = await load('hyparquet-writer')

parquetWriteFile({
  filename: file,
  rowGroupSize: 2,  // several row groups
  columnData: [
    { name: 'problem', data: ['What is 2+2?', 'Solve "x^2 = 4"\n', null, 'ünïcode ∑ 😀', ''], type: 'STRING' },
    { name: 'answer_id', data: [9007199254740993n, -1n, 0n, null, 42n], type: 'INT64' },
    { name: 'level', data: [1, 2, 3, 4, 5], type: 'INT32' },
    { name: 'pass_rate', data: [0.5, 0.1, null, 1e-300, -2.25], type: 'DOUBLE' },
    { name: 'verified', data: [true, false, null, true, false], type: 'BOOLEAN' },
    { name: 'meta', data: [{ a: [1, 2] }, null, { b: 'c' }, [], { n: null }], type: 'JSON' },
  ],
})
