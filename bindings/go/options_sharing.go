package raptoken

// Options for sharing one token between processes: the shared cache and the token file. See the
// repository README, section "Sharing tokens between processes".

/*
#include "raptoken.h"
*/
import "C"

// WithSharedCache turns the shared token cache on (true: in $XDG_CACHE_HOME/raptoken, else
// ~/.cache/raptoken) or off (false, even if RAPIDATA_SHARED_CACHE turns it on). With it on,
// processes of the same user on this host share one token per client through files of mode 0600
// in a directory of mode 0700, and processes that start together send one token request. A
// directory or file that cannot be used never fails a call: the client then caches in memory
// only. The last of WithSharedCache and WithSharedCacheDir wins. It gains nothing for a single
// long-running process.
func WithSharedCache(enabled bool) Option {
	return func(b *builder) error {
		var cerr *C.RapidataError
		if st := uint32(C.rapidata_options_set_shared_cache(b.p, C.bool(enabled), &cerr)); st != C.RAPIDATA_STATUS_OK {
			return takeError(st, cerr)
		}
		return nil
	}
}

// WithSharedCacheDir turns the shared token cache on in dir (a relative path is taken from the
// working directory when New runs). The directory is created with mode 0700 if missing; an
// existing one must belong to this user and give group and others no access, or it is not used.
func WithSharedCacheDir(dir string) Option {
	return func(b *builder) error {
		return b.setString("shared cache directory", dir, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_shared_cache_dir(p, s, e)
		})
	}
}

// WithTokenFile reads the token from a JSON file that another process keeps fresh (Rapidata's
// token-file pattern: {"access_token", "token_type": "Bearer", "expires_at": <Unix seconds>},
// what `raptoken maintain --token-file` and the Python SDK write) instead of exchanging client
// credentials, which are then not needed. It wins over every other credential source, as
// RAPIDATA_TOKEN_FILE does. The file is re-read when its token nears expiry. It is first read by
// the first Token call, which returns ErrConfig if it is missing, malformed, writable by group
// or others, or expired.
func WithTokenFile(path string) Option {
	return func(b *builder) error {
		return b.setString("token file", path, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_token_file(p, s, e)
		})
	}
}
