// A small Dockerfile reader for static checks: stages, their instructions, and what a stage
// inherits from the stage it is built FROM (ENV and USER), since no Docker engine runs in CI.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  index: number;
  name: string | undefined;
  /** The image or earlier stage after FROM (flags such as --platform dropped). */
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  stages: Stage[];
}

/** Joins continuation lines, drops comments and blank lines, and splits into stages. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comment lines (parser directives included) are dropped, even inside a continuation.
    if (trimmed.startsWith('#') || (trimmed === '' && !pending)) return;
    const continues = /\\\s*$/.test(raw);
    const part = continues ? raw.replace(/\\\s*$/, '') : raw;
    if (!pending) pending = { parts: [], line: i + 1 };
    pending.parts.push(part.trim());
    if (continues) return;
    const full = pending.parts.filter((p) => p !== '').join(' ');
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match) logical.push({ keyword: match[1].toUpperCase(), args: match[2], line: pending.line });
    pending = undefined;
  });
  if (pending) throw new Error(`Dockerfile ends inside a continuation started on line ${pending.line}`);

  const stages: Stage[] = [];
  for (const instruction of logical) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asAt = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        index: stages.length,
        base: words[0] ?? '',
        name: asAt === -1 ? undefined : words[asAt + 1]?.toLowerCase(),
        instructions: [],
      });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(instruction);
    } else if (instruction.keyword !== 'ARG') {
      throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
    }
  }
  return { stages };
}

export function finalStage(file: Dockerfile): Stage {
  const last = file.stages.at(-1);
  if (!last) throw new Error('Dockerfile has no FROM');
  return last;
}

/** The stage named (or numbered) `ref` that is defined before `before`, if any. */
export function stageByRef(file: Dockerfile, ref: string, before = file.stages.length): Stage | undefined {
  const lower = ref.toLowerCase();
  return file.stages
    .slice(0, before)
    .find((s) => s.name === lower || String(s.index) === lower);
}

/** The stage and every earlier stage it is built FROM, oldest first. */
export function stageChain(file: Dockerfile, stage: Stage): Stage[] {
  const parent = stageByRef(file, stage.base, stage.index);
  return parent ? [...stageChain(file, parent), stage] : [stage];
}

/** Images pulled from a registry (FROM lines that do not name an earlier stage). */
export function externalBases(file: Dockerfile): string[] {
  return file.stages.filter((s) => !stageByRef(file, s.base, s.index)).map((s) => s.base);
}

/** Splits `K=V K2="v 2"` (or the legacy `K V`) of an ENV instruction. */
export function parseEnvArgs(args: string): Array<[string, string]> {
  if (!/^[^\s=]+=/.test(args)) {
    const m = /^(\S+)\s+(.*)$/.exec(args);
    return m ? [[m[1], m[2]]] : [];
  }
  const pairs: Array<[string, string]> = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of args.matchAll(re)) {
    let value = m[2];
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (value.startsWith("'")) value = value.slice(1, -1);
    pairs.push([m[1], value]);
  }
  return pairs;
}

export interface Located {
  stage: Stage;
  instruction: Instruction;
  /** Position among the instructions of the whole chain, oldest stage first. */
  position: number;
}

/** The instructions a stage runs, its ancestors' included, in build order. */
export function chainInstructions(file: Dockerfile, stage: Stage): Located[] {
  const out: Located[] = [];
  for (const s of stageChain(file, stage)) {
    for (const instruction of s.instructions) out.push({ stage: s, instruction, position: out.length });
  }
  return out;
}

/** ENV in effect just before `position` of the chain of `stage`. */
export function envAt(file: Dockerfile, stage: Stage, position: number): Map<string, string> {
  const env = new Map<string, string>();
  for (const located of chainInstructions(file, stage).slice(0, position)) {
    if (located.instruction.keyword !== 'ENV') continue;
    for (const [k, v] of parseEnvArgs(located.instruction.args)) env.set(k, v);
  }
  return env;
}

/** The USER the stage's final image runs as (undefined = the base image's default, root). */
export function effectiveUser(file: Dockerfile, stage: Stage): string | undefined {
  const users = chainInstructions(file, stage).filter((l) => l.instruction.keyword === 'USER');
  return users.at(-1)?.instruction.args.trim();
}

export function isRootUser(user: string | undefined): boolean {
  if (user === undefined || user === '') return true;
  const name = user.split(':')[0];
  return name === 'root' || name === '0';
}

/** Text of a RUN without its `--mount=…`/`--network=…` flags. */
export function runCommand(instruction: Instruction): string {
  return instruction.args.replace(/^(?:--\S+\s+)*/, '');
}

const NPM_INSTALL = /(?:^|[\s;&|(])npm\s+(?:ci|install|i)(?=\s|$)([^;&|]*)/g;

/** Every `npm ci`/`npm install` in a RUN, with its flags. */
export function npmInstalls(instruction: Instruction): Array<{ flags: string; omitDev: boolean }> {
  if (instruction.keyword !== 'RUN') return [];
  return [...runCommand(instruction).matchAll(NPM_INSTALL)].map((m) => ({
    flags: m[1],
    omitDev: /--omit[= ]dev\b|--production\b|--only[= ]prod/.test(m[1]),
  }));
}

/** Parses the JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  const trimmed = args.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `COPY --from=x src… dest` split into its stage, sources and destination. */
export function parseCopy(instruction: Instruction): { from: string | undefined; sources: string[]; dest: string } {
  const words = instruction.args.split(/\s+/).filter((w) => w !== '');
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
}

/** Tests whether a context path is excluded by .dockerignore patterns (last match wins). */
export function isDockerIgnored(path: string, patterns: string[]): boolean {
  const clean = (p: string) => p.replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
  const target = clean(path);
  const prefixes = target.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rawPattern of patterns) {
    const negate = rawPattern.startsWith('!');
    const pattern = clean(negate ? rawPattern.slice(1) : rawPattern);
    const source = pattern
      .split(/(\*\*\/?|\*|\?)/)
      .map((piece) => {
        if (piece === '**/' ) return '(?:.*/)?';
        if (piece === '**') return '.*';
        if (piece === '*') return '[^/]*';
        if (piece === '?') return '[^/]';
        return piece.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    const re = new RegExp(`^${source}$`);
    if (prefixes.some((p) => re.test(p))) ignored = !negate;
  }
  return ignored;
}

export function dockerignorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
