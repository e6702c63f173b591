/**
 * The model-based suite, run by hand against your own clip handler.
 *
 *   npx tsx examples/model-based-test.ts           # both machines
 *   npx tsx examples/model-based-test.ts record    # only the record paths
 *
 * Paths come from the machines (xstate/graph); each one runs on a fresh
 * harness (Graph emulator + the real runtime + one SimulatedClock), steered
 * step by step, and must pass the path's states in order and leave no clip
 * behind. Prints one line per path and the coverage of what ran; exits 1 if
 * a path failed. Replace `myHandler` with yours.
 */
import { type Clip, callMachine, recordMachine } from 'graph-call-machines';
import {
  callMachinePaths,
  coverage,
  createModelHarness,
  describeTransition,
  type PathRun,
  recordMachinePaths,
  runCallPath,
  runRecordPath,
} from 'graph-call-machines/testing';
import type { AnyStateMachine } from 'xstate';

/** A handler under test: reads the whole clip and reports its length. */
async function myHandler(clip: Clip): Promise<{ seconds: number; bytesRead: number }> {
  let bytesRead = 0;
  for await (const chunk of clip.open()) bytesRead += (chunk as Buffer).length;
  if (bytesRead !== clip.bytes) throw new Error(`read ${bytesRead} of ${clip.bytes} bytes`);
  return { seconds: clip.wav?.durationSeconds ?? 0, bytesRead };
}

const which = process.argv[2];

function report(name: string, runs: PathRun[], cov: ReturnType<typeof coverage>, machine: AnyStateMachine) {
  const failed = runs.filter((r) => !r.ok);
  console.log(
    `\n${name}: ${runs.length - failed.length}/${runs.length} paths passed; ` +
      `states ${cov.states.covered}/${cov.states.total} (${cov.states.percent}%), ` +
      `transitions ${cov.transitions.covered}/${cov.transitions.total} (${cov.transitions.percent}%)`,
  );
  for (const t of cov.transitions.missing) console.log(`  not covered: ${describeTransition(machine, t)}`);
  return failed.length;
}

async function main() {
  let failures = 0;
  const started = performance.now();

  if (which !== 'call') {
    const { simple, transitions } = recordMachinePaths();
    const paths = [...simple, ...transitions];
    const runs: PathRun[] = [];
    console.log(`recordMachine: ${paths.length} paths`);
    for (const [i, path] of paths.entries()) {
      const h = await createModelHarness();
      try {
        const run = await runRecordPath(h, path, { handler: myHandler });
        runs.push(run);
        console.log(
          `${run.ok ? 'pass' : 'FAIL'} #${i + 1} ${path.description}${run.ok ? '' : `\n     ${run.error}`}`,
        );
      } finally {
        await h.close();
      }
    }
    failures += report('recordMachine', runs, coverage(recordMachine, paths), recordMachine);
  }

  if (which !== 'record') {
    const { shortest, transitions } = callMachinePaths();
    const paths = [...shortest, ...transitions];
    const runs: PathRun[] = [];
    console.log(`\ncallMachine: ${paths.length} paths`);
    for (const [i, path] of paths.entries()) {
      const h = await createModelHarness();
      try {
        const run = await runCallPath(h, path);
        runs.push(run);
        console.log(
          `${run.ok ? 'pass' : 'FAIL'} #${i + 1} ${path.description}${run.ok ? '' : `\n     ${run.error}`}`,
        );
      } finally {
        await h.close();
      }
    }
    failures += report('callMachine', runs, coverage(callMachine, paths), callMachine);
  }

  console.log(
    `\n${failures === 0 ? 'all paths passed' : `${failures} paths failed`} in ${Math.round(performance.now() - started)} ms`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

void main();
