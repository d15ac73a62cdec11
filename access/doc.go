// Package access is the access core every service of a peer shares: local
// accounts (argon2id password hashes), the share store (folders and
// printers with per-account rights, guest access and resource passwords),
// Authorize and Login with rate limiting and a cache of verified
// passwords, per-peer gates on requests in flight, the audit log, and
// ServeErrors, which turns a service's failures into wire refusals
// without leaking this machine's layout. It also names what a client
// presents to another peer (Target, Credentials).
//
// It knows nothing of files or printers beyond a share's folder path or
// queue name: the file service (package shares) and the print service
// (package printing) build on it and not on each other.
package access
