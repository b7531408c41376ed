// Rules the image must keep, each returning the problems it finds (empty = the rule holds), so a
// test can show a rule both passing on the real Dockerfile and failing on a broken one.
import {
  chainInstructions,
  type Dockerfile,
  effectiveUser,
  envAt,
  finalStage,
  isRootUser,
  npmInstalls,
  parseCopy,
  parseEnvArgs,
  runCommand,
  stageByRef,
} from './dockerfile-model.js';

export function multiStageProblems(file: Dockerfile): string[] {
  return file.stages.length >= 2 ? [] : [`expected at least 2 FROM stages, found ${file.stages.length}`];
}

export function nonRootUserProblems(file: Dockerfile): string[] {
  const user = effectiveUser(file, finalStage(file));
  return isRootUser(user) ? [`the final stage runs as ${user ?? 'root (no USER)'}`] : [];
}

/**
 * The final stage's node_modules must come from `npm ci --omit=dev`: run in the final stage (or a
 * stage it is built FROM), or copied from a stage that installed with --omit=dev only. Any install
 * without --omit=dev that reaches the final image is a problem.
 */
export function productionDependencyProblems(file: Dockerfile): string[] {
  const final = finalStage(file);
  const problems: string[] = [];
  let omitDevInstalls = 0;
  const visit = (stageRef: string, via: string) => {
    const source = stageByRef(file, stageRef);
    if (!source) {
      problems.push(`${via}: copies node_modules from "${stageRef}", which is not a stage`);
      return;
    }
    for (const { instruction } of chainInstructions(file, source)) {
      for (const install of npmInstalls(instruction)) {
        if (install.omitDev) omitDevInstalls += 1;
        else problems.push(`line ${instruction.line}: "${runCommand(instruction)}" installs dev dependencies into node_modules the final image copies`);
      }
    }
  };
  for (const { instruction } of chainInstructions(file, final)) {
    for (const install of npmInstalls(instruction)) {
      if (install.omitDev) omitDevInstalls += 1;
      else problems.push(`line ${instruction.line}: the final image runs "${runCommand(instruction)}" without --omit=dev`);
    }
    if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
      const copy = parseCopy(instruction);
      if (copy.sources.some((s) => /(^|\/)node_modules(\/|$)/.test(s))) {
        if (copy.from === undefined) problems.push(`line ${instruction.line}: copies node_modules from the build context`);
        else visit(copy.from, `line ${instruction.line}`);
      }
    }
  }
  if (omitDevInstalls === 0) problems.push('no `npm ci --omit=dev` provides the final stage its node_modules');
  return problems;
}

/** Every `npm ci`/`npm install` runs with ONNXRUNTIME_NODE_INSTALL=skip already in effect. */
export function onnxruntimeSkipProblems(file: Dockerfile): string[] {
  const problems: string[] = [];
  let installs = 0;
  for (const stage of file.stages) {
    for (const located of chainInstructions(file, stage)) {
      // Each stage's own instructions are checked once; ancestors only contribute their ENV.
      if (located.stage !== stage) continue;
      if (npmInstalls(located.instruction).length === 0) continue;
      installs += 1;
      const inline = /(?:^|\s)ONNXRUNTIME_NODE_INSTALL=skip\s+(?:\S+=\S*\s+)*npm\s/.test(runCommand(located.instruction));
      const env = envAt(file, stage, located.position).get('ONNXRUNTIME_NODE_INSTALL');
      if (!inline && env !== 'skip') {
        problems.push(`line ${located.instruction.line}: npm runs with ONNXRUNTIME_NODE_INSTALL=${env ?? '(unset)'}`);
      }
    }
  }
  if (installs === 0) problems.push('no npm install found');
  return problems;
}

/** ENV of the final image (its whole chain). */
export function finalEnv(file: Dockerfile): Map<string, string> {
  const final = finalStage(file);
  const env = new Map<string, string>();
  for (const { instruction } of chainInstructions(file, final)) {
    if (instruction.keyword === 'ENV') for (const [k, v] of parseEnvArgs(instruction.args)) env.set(k, v);
  }
  return env;
}
