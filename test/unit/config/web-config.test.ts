import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { contentSecurityPolicy } from '../../../src/plugins/web-app.js';

describe('the web app settings', () => {
  it('defaults to no explorer links and no browser RPC', () => {
    expect(loadConfig({}).web).toEqual({ explorerUrlPattern: undefined, chainRpcUrl: undefined });
  });

  it('reads EXPLORER_URL_PATTERN and WEB_CHAIN_RPC_URL', () => {
    const c = loadConfig({ EXPLORER_URL_PATTERN: 'https://sepolia.etherscan.io/{kind}/{value}', WEB_CHAIN_RPC_URL: 'https://rpc.example:8443/x' });
    expect(c.web).toEqual({ explorerUrlPattern: 'https://sepolia.etherscan.io/{kind}/{value}', chainRpcUrl: 'https://rpc.example:8443/x' });
  });

  it.each([
    [{ EXPLORER_URL_PATTERN: 'https://etherscan.io/address/' }, 'EXPLORER_URL_PATTERN'],
    [{ EXPLORER_URL_PATTERN: 'javascript:alert({value})' }, 'EXPLORER_URL_PATTERN'],
    [{ WEB_CHAIN_RPC_URL: 'ws://127.0.0.1:8545' }, 'WEB_CHAIN_RPC_URL'],
  ])('stops on %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });

  it("allows scripts and styles from the gateway's files only, and connections to it and the chain RPC", () => {
    const csp = contentSecurityPolicy('https://rpc.example:8443/secret-path');
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self' https://rpc.example:8443;");
    expect(csp).not.toContain('unsafe');
    expect(contentSecurityPolicy(null)).toContain("connect-src 'self';");
  });
});
