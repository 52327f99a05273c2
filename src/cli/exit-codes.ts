// Exit codes, as Ansible users expect them.
export const EXIT_OK = 0;
/** Usage, config, inventory or vars error: nothing was contacted. */
export const EXIT_USAGE = 1;
/** At least one host failed or was unreachable. */
export const EXIT_HOST_FAILED = 2;
