// The parsed notification as the ports name it (a type only; parsing lives in src/notifications/).
export type { ParsedNotification } from '../notifications/parse.js';
