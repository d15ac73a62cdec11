// Package shares is the file service: it answers other peers' browse,
// download, upload, push-send and search requests for the folders this
// peer shares, behind the access checks of package access, and its Client
// makes those requests of other peers.
//
// Folder access goes through os.Root opened at the share's folder, and
// every share-relative path is checked by CleanPath first, so neither a
// crafted name nor a symlink can reach outside a share or the inbox.
//
// Ops (JSON bodies; "auth" is {"user","password","share_password"}):
//
//	shares.list   {auth}                                   → [{"name","kind","right","password"}]
//	fs.list       {auth,share,path,hidden}                 → [{"name","size","mtime","dir"}]
//	fs.stat       {auth,share,path,hidden}                 → {"name","size","mtime","dir","sha256"}
//	fs.tree       {auth,share,path,hidden}                 → [{"path","size","mtime","dir"}]
//	fs.read       {auth,share,path,hidden,offset,length}   → {"size","mtime","sha256"?,"length"}, then the bytes as a body
//	fs.mkdir      {auth,share,path,hidden}                 → {}
//	fs.put.begin  {auth,share,path,hidden,size,sha256,mtime,replace}        → {"offset"}
//	fs.put.data   {auth,share,path,hidden,size,sha256,mtime,offset,replace} → {"offset"}, body, {"offset","complete","name"}
//	send.offer    {files:[{"name","size","sha256","mtime"}],total} or {total,files_bytes} + body → {"accepted","offer_id","receiver"}
//	send.data     {offer_id,index,offset}                  → {"offset"}, body, {"offset","complete","name"}
//	search        {auth,pattern}                           → [{"share","path","size","mtime"}]
//
// A list answer ([...]) too large for a response frame is replaced by
// {"body_bytes":N} and follows as a body of N bytes. Refusals travel as
// "denied" (bad account, password or right, rate-limited, bad path) or
// "not_found" (share, path, offer).
package shares
