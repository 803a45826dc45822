// Writes a brotli (.br) and a gzip (.gz) copy next to each text file of the built inbox, so that
// the server (sirv with `brotli` and `gzip` on) sends them to browsers that accept them without
// compressing on every request. Run by `npm run build` after `vite build client`; the folder is
// client/dist unless given: `node scripts/compress-client.mjs [dir]`.
// Each file is compressed once, at the highest levels (brotli 11, gzip 9), since time spent here
// is spent once per build; a copy that would not be smaller than the file is not written.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { extname, join, relative, resolve } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

// what Vite emits that compresses well; images and fonts are compressed already. Source maps
// are left out: the server never sends them (see server/src/http/static-files.ts).
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.txt', '.xml', '.webmanifest', '.wasm'])

const dir = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'client', 'dist'))
if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
  console.error(`compress-client: ${dir} is not a folder (build the inbox first: vite build client)`)
  process.exit(1)
}

let files = 0
let before = 0
let afterBrotli = 0
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !COMPRESSIBLE.has(extname(entry.name).toLowerCase())) continue
  const path = join(entry.parentPath, entry.name)
  const plain = readFileSync(path)
  const br = brotliCompressSync(plain, {
    params: {
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
    },
  })
  const gz = gzipSync(plain, { level: constants.Z_BEST_COMPRESSION })
  // a copy left from an earlier run over the same folder must not outlive the file it was made from
  writeIfSmaller(`${path}.br`, br, plain.length)
  writeIfSmaller(`${path}.gz`, gz, plain.length)
  files++
  before += plain.length
  afterBrotli += Math.min(br.length, plain.length)
}
const shown = relative(process.cwd(), dir)
console.log(`compress-client: ${files} files in ${shown.startsWith('..') ? dir : shown || '.'}, ${kib(before)} -> ${kib(afterBrotli)} with brotli`)

function writeIfSmaller(path, data, plainLength) {
  if (data.length < plainLength) writeFileSync(path, data)
  else rmSync(path, { force: true })
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`
}
