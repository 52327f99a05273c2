// Looking for a program on the host's PATH without a process: a `$(command -v)` is a fork, and the
// shells' `command -v` do not even agree (bash names a file that is not executable, dash does not),
// so the scripts walk the PATH themselves.

/**
 * Shell: runs `body` for each directory of the PATH, as `${d:-.}` (an empty entry is the current
 * directory); `break` ends the walk. Inline (no subshell): noglob and IFS are put back after it as
 * the scripts' shell reset left them.
 */
export const walkPath = (body: string): string => `set -f; IFS=:
for d in $PATH; do
  ${body}
done
unset IFS; set +f`;
