// GETs JSON from the gateway with `fetch`, turning failures into one readable sentence.

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new Error(`GET ${url} failed: ${(err as Error).message}`);
  }
  const body = await res.text();
  // A problem+json body's `detail`, else the start of whatever came back.
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${/"detail":"([^"]*)"/.exec(body)?.[1] ?? body.slice(0, 200)}`);
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new Error(`GET ${url} answered with something other than JSON: ${(err as Error).message}`);
  }
}
