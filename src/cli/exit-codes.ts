// Exit codes, as Ansible users expect them.
export const EXIT_OK = 0;
/** Usage, config, inventory or vars error: nothing was contacted. */
export const EXIT_USAGE = 1;
/** At least one host failed or was unreachable. */
export const EXIT_HOST_FAILED = 2;
/** The rollout stopped before every host ran on purpose: approval needed (no terminal, no --yes) or declined. */
export const EXIT_STOPPED = 3;
