// Which text crosses between casfleet and a host as it is, with neither base64 nor a process: the
// shell reads it with its own `read` in the C locale. Host to controller (a file fact's content) and
// controller to host (a file write's content) use the same rule.

// The bytes a script's [[:print:]] and [[:space:]] match in the C locale.
const PRINTABLE_ASCII = /^[\t\n\v\f\r\x20-\x7e]*$/;

/** Whether `text` (a Latin-1 binary string) is printable ASCII and white space only. */
export const isPrintableAscii = (text: string): boolean => PRINTABLE_ASCII.test(text);
