// Package remote carries out what the user asks of other peers' shares:
// browse, get (a file or a folder, resumable, from several peers at once
// with each chunk checked against the owner's sums), put, push-send,
// search and new folder. Every file moved is a transfer in the history
// (package transfer). It reaches peers through the file service's client
// (package shares) and knows the peer table and the session's logins only
// through Peers and Logins, which the node provides.
package remote
