// Which text crosses between casfleet and a host as it is, without base64: host to controller (a file
// fact's content, which the shell's `read` takes in the C locale) and controller to host (a file
// write's content, received by bash's `read -N` or by dd) use the same rule.

// The bytes a script's [[:print:]] and [[:space:]] match in the C locale.
const PRINTABLE_ASCII = /^[\t\n\v\f\r\x20-\x7e]*$/;

/** Whether `text` (a Latin-1 binary string) is printable ASCII and white space only. */
export const isPrintableAscii = (text: string): boolean => PRINTABLE_ASCII.test(text);
