import { fork } from 'node:child_process'
const [rootA, rootB, rounds = '12', n = '250', variantA = 'all', variantB = 'all'] = process.argv.slice(2)
const start = (root, variant) => new Promise((resolve) => {
  const child = fork(`${root}/.scratch/worker.ts`, [variant], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  child.once('message', () => resolve(child))
})
const a = await start(rootA, variantA)
const b = await start(rootB, variantB)
const run = (child) => new Promise((resolve) => { child.once('message', resolve); child.send({ n: Number(n) }) })
const res = { A: [], B: [] }
for (let r = 0; r < Number(rounds); r++) {
  for (const [k, c] of r % 2 ? [['B', b], ['A', a]] : [['A', a], ['B', b]]) res[k].push(await run(c))
}
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
for (const k of ['A', 'B']) {
  const rps = res[k].map((x) => Number(n) / x.ms * 1000), cpu = res[k].map((x) => x.cpuMs / Number(n))
  console.log(k, `median ${med(rps).toFixed(1)} req/s, cpu ${med(cpu).toFixed(2)} ms/req`, rps.map((x) => x.toFixed(0)).join(' '))
}
const ratio = res.A.map((x, i) => x.ms / res.B[i].ms)
console.log('B/A throughput ratio per round, median', med(ratio).toFixed(3), ratio.map((x) => x.toFixed(2)).join(' '))
a.send({ stop: true }); b.send({ stop: true })
