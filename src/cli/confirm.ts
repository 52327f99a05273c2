// Yes/no questions on the terminal. Only asked when both stdin and stderr are terminals: a run from
// a script or CI never waits for an answer that cannot come (it stops, or needs --yes).
import { createInterface } from 'node:readline/promises';

export const canAsk = (): boolean => process.stdin.isTTY === true && process.stderr.isTTY === true;

/** Ask on stderr; only "y" or "yes" (any case) counts as yes. */
export const confirm = async (question: string): Promise<boolean> => {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
};
