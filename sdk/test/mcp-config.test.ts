// The gateway's configuration file: the MCP clients' own format, checked with messages that say
// which server and field are at fault.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { GatewayConfigError, loadGatewayConfig, parseGatewayConfig } from '../src/mcp/config.js'

describe('the gateway configuration', () => {
  it("reads Claude Desktop's and Cursor's formats: stdio servers and servers by URL; disabled ones are left out", () => {
    const config = parseGatewayConfig({
      globalShortcut: 'Ctrl+Space',
      mcpServers: {
        filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { DEBUG: '1' } },
        'git.hub': { type: 'http', url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer x' } },
        old: { command: 'old-server', disabled: true },
      },
    })
    expect(config.servers).toEqual({
      filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { DEBUG: '1' } },
      'git.hub': { type: 'http', url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer x' } },
    })
  })

  it.each([
    ['no mcpServers', { servers: {} }, /mcpServers: Invalid input/],
    ['no server', { mcpServers: {} }, /mcpServers: names no server/],
    ['a name with "__"', { mcpServers: { a__b: { command: 'x' } } }, /mcpServers\.a__b: a server name may not contain "__"/],
    ['a name with a space', { mcpServers: { 'my server': { command: 'x' } } }, /mcpServers\.my server: a server name is 1 to 64 letters/],
    ['an empty command', { mcpServers: { a: { command: '' } } }, /mcpServers\.a\.command: /],
    ['a URL that is not http(s)', { mcpServers: { a: { url: 'ftp://x.test' } } }, /mcpServers\.a\.url: an http\(s\) URL/],
    ['neither command nor url', { mcpServers: { a: { image: 'x' } } }, /mcpServers\.a: an MCP server is/],
    ['only disabled servers', { mcpServers: { a: { command: 'x', disabled: true } } }, /every server in mcpServers is disabled/],
  ])('refuses %s, saying where', (_what, content, message) => {
    expect(() => parseGatewayConfig(content)).toThrow(GatewayConfigError)
    expect(() => parseGatewayConfig(content)).toThrow(message)
  })

  it('says when the file is missing or not JSON', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'approvals-mcp-config-'))
    try {
      await expect(loadGatewayConfig(join(folder, 'none.json'))).rejects.toThrow(/^Cannot read the configuration file .*none\.json/)
      writeFileSync(join(folder, 'bad.json'), '{ "mcpServers": ')
      await expect(loadGatewayConfig(join(folder, 'bad.json'))).rejects.toThrow(/bad\.json is not JSON/)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })
})
