// The lock on a PGlite data folder: one live server per folder, and a server that crashed starts
// again on its own folder, even when the new process got the crashed one's pid (PID 1 in a
// container) or the crashed one's pid now belongs to an unrelated process.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/db.js'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

async function dataFolder(): Promise<{ dataDir: string; lockPath: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'approvals-lock-'))
  dirs.push(dataDir)
  return { dataDir, lockPath: join(dataDir, 'approvals.lock') }
}

const hasProc = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id')

/** Field 22 of /proc/<pid>/stat, read here independently of the code under test. */
async function startTimeOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!
}

const bootId = async () => (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim()

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()))

/**
 * Another server process on `dataDir`: node running the project's own db.ts, which opens the
 * folder and waits. `outcome` resolves with its answer: 'ready', or 'refused: <message>'. With
 * `onCue`, it loads the code, resolves `loaded`, and opens the folder only when `cue()` is called,
 * so that several can be made to open at the same moment.
 */
function otherServer(dataDir: string, { onCue = false } = {}) {
  const db = new URL('../src/db.ts', import.meta.url).href
  const script = `
    const { openDatabase } = await import(${JSON.stringify(db)})
    if (${onCue}) {
      console.log('loaded')
      await new Promise((resolve) => process.stdin.once('data', resolve))
    }
    try {
      await openDatabase({ dataDir: process.argv[1] })
      console.log('ready')
      setInterval(() => {}, 1 << 30)
    } catch (err) {
      console.log('refused: ' + err.message)
      process.exit(1)
    }`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dataDir], { stdio: ['pipe', 'pipe', 'pipe'] })
  children.push(child)
  const output: string[] = []
  let loaded!: () => void
  const loadedPromise = new Promise<void>((resolve) => (loaded = resolve))
  const outcome = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line))
    createInterface({ input: child.stdout! }).on('line', (line) => (line === 'loaded' ? loaded() : resolve(line)))
    // 'close', not 'exit': it comes after the output has been read
    child.once('close', (code) => reject(new Error(`the other server exited with ${code}:\n${output.join('\n')}`)))
  })
  return { child, outcome, loaded: loadedPromise, cue: () => child.stdin!.write('go\n') }
}

// each open starts PGlite, and some tests start other node processes: seconds each on a busy machine
describe('the PGlite data folder lock', { timeout: 60_000 }, () => {
  it('records the holder as JSON: its pid, and where /proc exists its start time and the boot id', async () => {
    const { dataDir, lockPath } = await dataFolder()
    const db = await openDatabase({ dataDir })
    try {
      const holder = JSON.parse(await readFile(lockPath, 'utf8'))
      expect(holder.pid).toBe(process.pid)
      if (hasProc) expect(holder).toEqual({ pid: process.pid, startTime: await startTimeOf(process.pid), bootId: await bootId() })
    } finally {
      await db.close()
    }
    await expect(readFile(lockPath, 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it('takes over a lock left by a crashed process that had our pid (a bare pid, or ours with another start time), and close() removes it', async () => {
    const { dataDir, lockPath } = await dataFolder()
    // the old format: a bare pid. It cannot be this process's, which has not opened the folder.
    await writeFile(lockPath, String(process.pid))
    const first = await openDatabase({ dataDir })
    await first.migrate()
    await first.close()
    await expect(readFile(lockPath, 'utf8')).rejects.toThrow(/ENOENT/)

    // the new format, as PID 1 in a container leaves it when killed: our pid, an earlier start
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, startTime: '1', bootId: hasProc ? await bootId() : 'b' }))
    const second = await openDatabase({ dataDir })
    expect(await second.migrate()).toEqual([]) // the data written through the first open is there
    expect(JSON.parse(await readFile(lockPath, 'utf8')).pid).toBe(process.pid)
    await second.close()
    await expect(readFile(lockPath, 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it('refuses a folder held by another live server process, and takes it over once that process is killed', async () => {
    const { dataDir } = await dataFolder()
    const other = otherServer(dataDir)
    expect(await other.outcome).toBe('ready')
    await expect(openDatabase({ dataDir })).rejects.toThrow(
      new RegExp(`The data folder .* is in use by another server \\(process ${other.child.pid}\\)\\. .*use PostgreSQL`),
    )

    const gone = exited(other.child)
    other.child.kill('SIGKILL') // a crash: its lock file stays behind
    await gone
    const db = await openDatabase({ dataDir })
    await db.ping()
    await db.close()
  })

  it.skipIf(!hasProc)('takes over a lock whose pid now belongs to an unrelated process (start time or boot id differ), and honours it when they match', async () => {
    const { dataDir, lockPath } = await dataFolder()
    const pid = process.ppid // alive, and not a server on this folder
    const startTime = await startTimeOf(pid)

    // the recorded process is the one running under that pid: held
    await writeFile(lockPath, JSON.stringify({ pid, startTime, bootId: await bootId() }))
    await expect(openDatabase({ dataDir })).rejects.toThrow(new RegExp(`in use by another server \\(process ${pid}\\)`))

    // the pid was reused: the process under it started at another time
    await writeFile(lockPath, JSON.stringify({ pid, startTime: String(Number(startTime) + 1), bootId: await bootId() }))
    const reused = await openDatabase({ dataDir })
    await reused.close()

    // written before a reboot: start times of another boot name other processes
    await writeFile(lockPath, JSON.stringify({ pid, startTime, bootId: '00000000-0000-0000-0000-000000000000' }))
    const rebooted = await openDatabase({ dataDir })
    await rebooted.close()
    await expect(readFile(lockPath, 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it('refuses to open a folder twice in one process, and opens it again once closed', async () => {
    const { dataDir } = await dataFolder()
    const first = await openDatabase({ dataDir })
    await expect(openDatabase({ dataDir })).rejects.toThrow(/The data folder .* is already open in this process/)
    // another spelling of the same folder is the same folder
    await expect(openDatabase({ dataDir: join(dataDir, '.') + '/' })).rejects.toThrow(/already open in this process/)
    await first.close()
    const again = await openDatabase({ dataDir })
    await again.close()
  })

  it('lets exactly one of several servers opening at the same moment take over a stale lock', async () => {
    const { dataDir, lockPath } = await dataFolder()
    await writeFile(lockPath, '2147483646') // a process that has gone
    const servers = Array.from({ length: 4 }, () => otherServer(dataDir, { onCue: true }))
    await Promise.all(servers.map((s) => s.loaded))
    for (const s of servers) s.cue()
    const outcomes = await Promise.all(servers.map((s) => s.outcome))
    expect(outcomes.filter((o) => o === 'ready')).toHaveLength(1)
    for (const o of outcomes.filter((o) => o !== 'ready')) expect(o).toMatch(/^refused: .*(in use by another server|other servers are starting)/)
  })
})
