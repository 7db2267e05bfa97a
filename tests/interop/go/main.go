// Command gosumdb is the Go half of tests/interop/test_go_sumdb.py: it checks wheelsig's
// transparency-log files with Go's golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's
// golang-golang-x-mod-dev), and writes a Go-made log in the same layout for wheelsig's
// example crate/examples/tlog_interop.rs to check. Only the standard library and x/mod;
// built offline in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOCACHE=<dir> go build -o <bin> .
//
// Layout (both directions):
//
//	DIR/log.vkey, DIR/log.key     the log's note key: vkey, and PRIVATE+KEY+… form
//	DIR/witness.vkey              a cosignature/v1 key (type 0x04) that cosigned every checkpoint
//	DIR/log/checkpoint            the signed checkpoint of the whole log
//	DIR/log/tile/…                C2SP tlog-tiles hash tiles and entry bundles (full ones, and
//	                              the partial ones of every checkpointed size)
//	DIR/checkpoints/<size>        signed checkpoints of the intermediate sizes
//	DIR/proofs/<index>-<size>.tlog-proof   c2sp.org/tlog-proof@v1 inclusion proofs
//	DIR/consistency/<old>-<new>   tlog-witness add-checkpoint bodies: `old <old>`, the
//	                              consistency proof, a blank line, the new checkpoint note
//
// Go's gotchas: Tile.Path() includes the height (tile/8/0/…, tile/8/data/…) where C2SP has
// none (tile/0/…, tile/entries/…), so paths are translated; tlog.TreeHash(0) is zeros, not
// SHA-256(""), so size 0 is never used; x/mod's note package does not know cosignature/v1, so
// cosignatures are made and checked here by hand.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	height     = 8 // C2SP tiles are 2^8 hashes wide
	width      = 1 << height
	origin     = "go.example/log"
	witnessKey = "go.example/witness"
	cosignTime = 1700000000
	logSize    = 2000
	proofMagic = "c2sp.org/tlog-proof@v1"
)

var (
	checkpointSizes = []int64{1, 2, 3, 4, 5, 255, 256, 257, 511, 512, 513, 1000, 1536, logSize}
	proofs          = [][2]int64{{0, 1}, {0, 2}, {1, 2}, {2, 3}, {4, 5}, {255, 256}, {256, 257}, {510, 511}, {512, 513}, {617, 1000}, {0, logSize}, {617, logSize}, {1000, logSize}, {1001, logSize}, {1999, logSize}}
	extraPairs      = [][2]int64{{1, logSize}, {3, logSize}, {256, logSize}, {1000, logSize}, {logSize, logSize}}
	b64             = base64.StdEncoding
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "write" && os.Args[1] != "verify") {
		fmt.Fprintln(os.Stderr, "usage: gosumdb write DIR | gosumdb verify DIR")
		os.Exit(2)
	}
	dir := os.Args[2]
	if os.Args[1] == "write" {
		msg, err := write(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: write: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(msg)
		return
	}
	c := &checker{}
	if err := verify(dir, c); err != nil {
		c.fail("%v", err)
	}
	if len(c.errs) > 0 {
		for i, e := range c.errs {
			if i == 30 {
				fmt.Fprintf(os.Stderr, "FAIL: … and %d more\n", len(c.errs)-30)
				break
			}
			fmt.Fprintf(os.Stderr, "FAIL: %s\n", e)
		}
		os.Exit(1)
	}
	fmt.Printf("go verify %s: all %d checks passed\n", dir, c.passed)
}

// c2spPath translates Go's tile path (tile/8/<L>/… or tile/8/data/…) to C2SP's.
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	rest := strings.TrimPrefix(p, fmt.Sprintf("tile/%d/", height))
	if rest == p {
		panic("unexpected tile path " + p)
	}
	if strings.HasPrefix(rest, "data/") {
		return "tile/entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

// servedTiles lists the hash tiles a C2SP log of size n serves: the full tiles and, at each
// level, the one partial tile of this size. tlog.NewTiles also lists every narrower partial
// tile (W = 1…), which C2SP does not serve; keep the widest per (level, index).
func servedTiles(n int64) []tlog.Tile {
	type key struct {
		l int
		n int64
	}
	widest := map[key]tlog.Tile{}
	var order []key
	for _, t := range tlog.NewTiles(height, 0, n) {
		k := key{t.L, t.N}
		if _, ok := widest[k]; !ok {
			order = append(order, k)
		}
		if t.W > widest[k].W {
			widest[k] = t
		}
	}
	out := make([]tlog.Tile, 0, len(order))
	for _, k := range order {
		out = append(out, widest[k])
	}
	return out
}

// memory is an in-memory tlog hash store.
type memory struct{ stored []tlog.Hash }

func (m *memory) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(m.stored)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = m.stored[x]
	}
	return out, nil
}

func (m *memory) add(n int64, record []byte) error {
	hs, err := tlog.StoredHashes(n, record, m)
	if err != nil {
		return err
	}
	m.stored = append(m.stored, hs...)
	return nil
}

func bundle(records [][]byte) []byte {
	var b []byte
	for _, r := range records {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		b = append(b, r...)
	}
	return b
}

func parseBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("a truncated length prefix")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, fmt.Errorf("entry %d is truncated", len(out))
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, nil
}

func keyID(name string, typ byte, pub []byte) uint32 {
	h := sha256.Sum256(append(append([]byte(name+"\n"), typ), pub...))
	return binary.BigEndian.Uint32(h[:4])
}

func cosignatureMessage(text string, t uint64) []byte {
	return []byte(fmt.Sprintf("cosignature/v1\ntime %d\n%s", t, text))
}

func put(dir, rel string, data []byte) error {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

func hashLines(hs []tlog.Hash) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func write(dir string) (string, error) {
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{0x21}, 32)), origin)
	if err != nil {
		return "", err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return "", err
	}
	wpriv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x22}, 32))
	wpub := wpriv.Public().(ed25519.PublicKey)
	wid := keyID(witnessKey, 0x04, wpub)
	wvkey := fmt.Sprintf("%s+%08x+%s", witnessKey, wid, b64.EncodeToString(append([]byte{0x04}, wpub...)))
	for rel, text := range map[string]string{"log.vkey": vkey, "log.key": skey, "witness.vkey": wvkey} {
		if err := put(dir, rel, []byte(text+"\n")); err != nil {
			return "", err
		}
	}

	// Records: "go leaf <i>", an empty one, a 65535-byte one, all byte values, then random.
	rng := rand.New(rand.NewSource(2))
	var records [][]byte
	for i := 0; i < 1000; i++ {
		records = append(records, []byte(fmt.Sprintf("go leaf %d", i)))
	}
	big := make([]byte, 65535)
	rng.Read(big)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	records = append(records, []byte{}, big, all)
	for len(records) < logSize {
		n := rng.Intn(48)
		if rng.Intn(20) == 0 {
			n = rng.Intn(4096)
		}
		r := make([]byte, n)
		rng.Read(r)
		records = append(records, r)
	}
	m := &memory{}
	for i, r := range records {
		if err := m.add(int64(i), r); err != nil {
			return "", err
		}
	}

	notes := map[int64]string{}
	files := map[string]bool{}
	for _, size := range checkpointSizes {
		for _, t := range servedTiles(size) {
			data, err := tlog.ReadTileData(t, m)
			if err != nil {
				return "", err
			}
			files[c2spPath(t)] = true
			if err := put(dir, "log/"+c2spPath(t), data); err != nil {
				return "", err
			}
			if t.L == 0 {
				d := tlog.Tile{H: height, L: -1, N: t.N, W: t.W}
				files[c2spPath(d)] = true
				if err := put(dir, "log/"+c2spPath(d), bundle(records[t.N*width:t.N*width+int64(t.W)])); err != nil {
					return "", err
				}
			}
		}
		root, err := tlog.TreeHash(size, m)
		if err != nil {
			return "", err
		}
		text := fmt.Sprintf("%s\n%d\n%s\n", origin, size, root)
		msg, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			return "", err
		}
		sig := make([]byte, 12, 76)
		binary.BigEndian.PutUint32(sig[:4], wid)
		binary.BigEndian.PutUint64(sig[4:12], cosignTime)
		sig = append(sig, ed25519.Sign(wpriv, cosignatureMessage(text, cosignTime))...)
		notes[size] = string(msg) + fmt.Sprintf("— %s %s\n", witnessKey, b64.EncodeToString(sig))
		if err := put(dir, fmt.Sprintf("checkpoints/%d", size), []byte(notes[size])); err != nil {
			return "", err
		}
	}
	if err := put(dir, "log/checkpoint", []byte(notes[logSize])); err != nil {
		return "", err
	}

	for _, p := range proofs {
		index, size := p[0], p[1]
		path, err := tlog.ProveRecord(size, index, m)
		if err != nil {
			return "", err
		}
		extra := ""
		if index == 617 && size == logSize {
			extra = "extra " + b64.EncodeToString([]byte("golang.org/x/mod/sumdb/tlog")) + "\n"
		}
		text := fmt.Sprintf("%s\n%sindex %d\n%s\n%s", proofMagic, extra, index, hashLines(path), notes[size])
		if err := put(dir, fmt.Sprintf("proofs/%d-%d.tlog-proof", index, size), []byte(text)); err != nil {
			return "", err
		}
	}

	pairs := map[[2]int64]bool{}
	for i := 1; i < len(checkpointSizes); i++ {
		pairs[[2]int64{checkpointSizes[i-1], checkpointSizes[i]}] = true
	}
	for _, p := range extraPairs {
		pairs[p] = true
	}
	for p := range pairs {
		old, size := p[0], p[1]
		proof, err := tlog.ProveTree(size, old, m)
		if err != nil {
			return "", err
		}
		text := fmt.Sprintf("old %d\n%s\n%s", old, hashLines(proof), notes[size])
		if err := put(dir, fmt.Sprintf("consistency/%d-%d", old, size), []byte(text)); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("go wrote %s: %d records, %d tile and bundle files, %d checkpoints, %d inclusion proofs, %d consistency proofs",
		dir, len(records), len(files), len(checkpointSizes), len(proofs), len(pairs)), nil
}

// checker collects every mismatch instead of stopping at the first.
type checker struct {
	errs   []string
	passed int
}

func (c *checker) check(ok bool, format string, args ...interface{}) bool {
	if ok {
		c.passed++
	} else {
		c.fail(format, args...)
	}
	return ok
}

func (c *checker) fail(format string, args ...interface{}) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// fileTiles is a tlog.TileReader over C2SP tiles on disk.
type fileTiles struct{ dir string }

func (f fileTiles) Height() int { return height }

func (f fileTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		rel := "log/" + c2spPath(t)
		data, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", rel, err)
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, expected %d", rel, len(data), t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

func (f fileTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// witness is a cosignature/v1 verifier key, parsed by hand (x/mod does not know type 0x04).
type witness struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

func parseWitness(vkey string) (*witness, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return nil, fmt.Errorf("not a vkey")
	}
	id, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("bad key id")
	}
	raw, err := b64.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		return nil, fmt.Errorf("not a cosignature/v1 key (type 0x04 and 32 bytes)")
	}
	w := &witness{name: parts[0], id: uint32(id), pub: ed25519.PublicKey(raw[1:])}
	if keyID(w.name, 0x04, w.pub) != w.id {
		return nil, fmt.Errorf("key id %s does not match SHA-256(name, 0x04, key)", parts[1])
	}
	return w, nil
}

type verifier struct {
	dir     string
	c       *checker
	log     note.Verifier
	witness *witness
}

// open verifies a checkpoint note: the log's signature with note.Open, the cosignature by
// hand, and the checkpoint text strictly.
func (v *verifier) open(what string, msg []byte) (string, tlog.Tree, bool) {
	c := v.c
	n, err := note.Open(msg, note.VerifierList(v.log))
	if err != nil {
		c.fail("%s: note.Open: %v", what, err)
		return "", tlog.Tree{}, false
	}
	c.check(len(n.Sigs) == 1, "%s: %d log signatures", what, len(n.Sigs))
	cosigned := false
	for _, s := range n.UnverifiedSigs {
		if s.Name != v.witness.name || s.Hash != v.witness.id {
			continue
		}
		raw, err := b64.DecodeString(s.Base64)
		if !c.check(err == nil && len(raw) == 4+8+64, "%s: a cosignature/v1 is 76 bytes", what) {
			return "", tlog.Tree{}, false
		}
		t := binary.BigEndian.Uint64(raw[4:12])
		cosigned = c.check(t > 0 && ed25519.Verify(v.witness.pub, cosignatureMessage(n.Text, t), raw[12:]), "%s: the cosignature by %s does not verify", what, v.witness.name)
	}
	c.check(cosigned, "%s: no valid cosignature by %s", what, v.witness.name)
	lines := strings.Split(n.Text, "\n")
	if !c.check(len(lines) == 4 && lines[3] == "", "%s: a checkpoint is 3 lines here (origin, size, root)", what) {
		return "", tlog.Tree{}, false
	}
	c.check(lines[0] == v.log.Name(), "%s: origin %q is not the key name %q", what, lines[0], v.log.Name())
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if !c.check(err == nil && size >= 0 && strconv.FormatInt(size, 10) == lines[1], "%s: bad size %q", what, lines[1]) {
		return "", tlog.Tree{}, false
	}
	root, err := tlog.ParseHash(lines[2])
	if !c.check(err == nil && root.String() == lines[2], "%s: bad root %q", what, lines[2]) {
		return "", tlog.Tree{}, false
	}
	return n.Text, tlog.Tree{N: size, Hash: root}, true
}

func (v *verifier) read(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(v.dir, filepath.FromSlash(rel)))
}

func (v *verifier) list(rel string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(filepath.Join(v.dir, filepath.FromSlash(rel)), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			r, err := filepath.Rel(v.dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(r))
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func equalHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func parseHashLines(lines []string) ([]tlog.Hash, error) {
	var out []tlog.Hash
	for _, l := range lines {
		h, err := tlog.ParseHash(l)
		if err != nil {
			return nil, fmt.Errorf("hash line %q: %v", l, err)
		}
		out = append(out, h)
	}
	return out, nil
}

func verify(dir string, c *checker) error {
	v := &verifier{dir: dir, c: c}
	text := func(rel string) (string, error) {
		b, err := v.read(rel)
		return strings.TrimSpace(string(b)), err
	}

	// Keys: our vkey with note.NewVerifier, our private key with note.NewSigner.
	vkey, err := text("log.vkey")
	if err != nil {
		return err
	}
	if v.log, err = note.NewVerifier(vkey); err != nil {
		return fmt.Errorf("log.vkey: note.NewVerifier: %v", err)
	}
	skey, err := text("log.key")
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return fmt.Errorf("log.key: note.NewSigner: %v", err)
	}
	c.check(signer.Name() == v.log.Name() && signer.KeyHash() == v.log.KeyHash(), "log.key: name or key id differs from log.vkey")
	if raw, err := b64.DecodeString(skey[strings.LastIndex(skey, "+")+1:]); c.check(err == nil && len(raw) == 33, "log.key: not base64 of type and seed") {
		again, err := note.NewEd25519VerifierKey(v.log.Name(), ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey))
		c.check(err == nil && again == vkey, "log.key: its public key as a vkey is %q, log.vkey is %q", again, vkey)
	}
	wvkey, err := text("witness.vkey")
	if err != nil {
		return err
	}
	if v.witness, err = parseWitness(wvkey); err != nil {
		return fmt.Errorf("witness.vkey: %v", err)
	}

	// The whole log's checkpoint, and Go's signature over the same text.
	top, err := v.read("log/checkpoint")
	if err != nil {
		return err
	}
	cpText, tree, ok := v.open("log/checkpoint", top)
	if !ok {
		return fmt.Errorf("log/checkpoint: unusable")
	}
	mine, err := note.Sign(&note.Note{Text: cpText}, signer)
	if err != nil {
		return err
	}
	c.check(bytes.HasPrefix(top, mine), "log/checkpoint: note.Sign with log.key gives\n%s\nwhich does not start the file", mine)

	// Our tiles through tlog.TileHashReader, which authenticates each tile against the root.
	if h, err := tlog.TreeHash(tree.N, tlog.TileHashReader(tree, fileTiles{dir})); err != nil {
		c.fail("tree hash from our tiles (tlog.TileHashReader, size %d): %v", tree.N, err)
	} else {
		c.check(h == tree.Hash, "tree hash from our tiles is %v, the checkpoint says %v", h, tree.Hash)
	}

	// Entry bundles: re-hash with tlog.RecordHash and compare with the level-0 tiles.
	var records [][]byte
	m := &memory{}
	for n := int64(0); n*width < tree.N; n++ {
		w := tree.N - n*width
		if w > width {
			w = width
		}
		brel := "log/" + c2spPath(tlog.Tile{H: height, L: -1, N: n, W: int(w)})
		trel := "log/" + c2spPath(tlog.Tile{H: height, L: 0, N: n, W: int(w)})
		b, err := v.read(brel)
		if err != nil {
			return err
		}
		entries, err := parseBundle(b)
		if err != nil {
			return fmt.Errorf("%s: %v", brel, err)
		}
		if len(entries) != int(w) {
			return fmt.Errorf("%s: %d entries, expected %d", brel, len(entries), w)
		}
		tile, err := v.read(trel)
		if err != nil {
			return err
		}
		if len(tile) != int(w)*tlog.HashSize {
			return fmt.Errorf("%s: %d bytes, expected %d", trel, len(tile), int(w)*tlog.HashSize)
		}
		for k, e := range entries {
			i := n*width + int64(k)
			rh := tlog.RecordHash(e)
			c.check(bytes.Equal(rh[:], tile[k*tlog.HashSize:(k+1)*tlog.HashSize]), "%s: hash %d is not tlog.RecordHash of entry %d in %s", trel, k, i, brel)
			records = append(records, e)
			if err := m.add(i, e); err != nil {
				return err
			}
		}
	}
	if h, err := tlog.TreeHash(tree.N, m); err == nil {
		c.check(h == tree.Hash, "tlog.TreeHash over the entry bundles is %v, the checkpoint says %v", h, tree.Hash)
	} else {
		return err
	}
	// Every leaf hash read through tlog.TileHashReader: that fetches every level-0 tile and
	// the tiles above it, and authenticates them all against the checkpoint's root.
	leafIndexes := make([]int64, tree.N)
	for i := range leafIndexes {
		leafIndexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	if hs, err := tlog.TileHashReader(tree, fileTiles{dir}).ReadHashes(leafIndexes); err != nil {
		c.fail("reading all %d leaf hashes from our tiles through tlog.TileHashReader: %v", tree.N, err)
	} else {
		for i, h := range hs {
			c.check(h == tlog.RecordHash(records[i]), "leaf hash %d from tlog.TileHashReader is not tlog.RecordHash of entry %d", i, i)
		}
	}

	// Intermediate checkpoints: roots from the entries, and from our partial tiles of that size.
	names, err := v.list("checkpoints")
	if err != nil {
		return err
	}
	trees := map[int64]tlog.Tree{}
	for _, rel := range names {
		b, err := v.read(rel)
		if err != nil {
			return err
		}
		_, t, ok := v.open(rel, b)
		if !ok {
			continue
		}
		c.check(rel == fmt.Sprintf("checkpoints/%d", t.N), "%s: holds a checkpoint of size %d", rel, t.N)
		if !c.check(t.N >= 1 && t.N <= tree.N, "%s: size %d outside the log's 1..%d", rel, t.N, tree.N) {
			continue
		}
		h, err := tlog.TreeHash(t.N, m)
		if err != nil {
			return err
		}
		c.check(h == t.Hash, "%s: root %v is not tlog.TreeHash %v of the first %d entries", rel, t.Hash, h, t.N)
		if h, err := tlog.TreeHash(t.N, tlog.TileHashReader(t, fileTiles{dir})); err != nil {
			c.fail("%s: tree hash from our tiles (tlog.TileHashReader, size %d): %v", rel, t.N, err)
		} else {
			c.check(h == t.Hash, "%s: tree hash from our tiles is %v", rel, h)
		}
		trees[t.N] = t
	}
	c.check(trees[tree.N] == tree, "checkpoints/: none equals log/checkpoint")
	c.check(len(trees) >= 5, "only %d intermediate checkpoints", len(trees))

	// Every tile and bundle file is exactly what tlog makes for the checkpointed sizes.
	want := map[string][]byte{}
	for size := range trees {
		for _, t := range servedTiles(size) {
			data, err := tlog.ReadTileData(t, m)
			if err != nil {
				return err
			}
			want["log/"+c2spPath(t)] = data
			if t.L == 0 {
				want["log/"+c2spPath(tlog.Tile{H: height, L: -1, N: t.N, W: t.W})] = bundle(records[t.N*width : t.N*width+int64(t.W)])
			}
		}
	}
	present, err := v.list("log/tile")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, rel := range present {
		seen[rel] = true
		w, ok := want[rel]
		if !c.check(ok, "%s: a file tlog would not serve for these checkpoints", rel) {
			continue
		}
		b, err := v.read(rel)
		if err != nil {
			return err
		}
		c.check(bytes.Equal(b, w), "%s: differs from tlog.ReadTileData / the bundle of those entries", rel)
	}
	for rel := range want {
		c.check(seen[rel], "%s: missing", rel)
	}

	// Inclusion proofs, with tlog.CheckRecord, and compared with tlog.ProveRecord.
	names, err = v.list("proofs")
	if err != nil {
		return err
	}
	c.check(len(names) >= 5, "only %d inclusion proofs", len(names))
	for _, rel := range names {
		b, err := v.read(rel)
		if err != nil {
			return err
		}
		head, rest, ok := strings.Cut(string(b), "\n\n")
		lines := strings.Split(head, "\n")
		if !c.check(ok && len(lines) >= 2 && lines[0] == proofMagic, "%s: not a %s file", rel, proofMagic) {
			continue
		}
		lines = lines[1:]
		if strings.HasPrefix(lines[0], "extra ") {
			_, err := b64.DecodeString(strings.TrimPrefix(lines[0], "extra "))
			c.check(err == nil, "%s: extra is not base64", rel)
			lines = lines[1:]
		}
		if !c.check(len(lines) >= 1 && strings.HasPrefix(lines[0], "index "), "%s: no index line", rel) {
			continue
		}
		index, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "index "), 10, 64)
		if !c.check(err == nil && "index "+strconv.FormatInt(index, 10) == lines[0], "%s: bad %q", rel, lines[0]) {
			continue
		}
		path, err := parseHashLines(lines[1:])
		if !c.check(err == nil, "%s: %v", rel, err) {
			continue
		}
		_, t, ok := v.open(rel, []byte(rest))
		if !ok {
			continue
		}
		if !c.check(trees[t.N] == t, "%s: its checkpoint (size %d) is not one of the verified ones", rel, t.N) {
			continue
		}
		if !c.check(index >= 0 && index < t.N, "%s: index %d outside a tree of %d", rel, index, t.N) {
			continue
		}
		if err := tlog.CheckRecord(path, t.N, t.Hash, index, tlog.RecordHash(records[index])); err != nil {
			c.fail("%s: tlog.CheckRecord of entry %d in tree %d: %v", rel, index, t.N, err)
		} else {
			c.passed++
		}
		goProof, err := tlog.ProveRecord(t.N, index, m)
		c.check(err == nil && equalHashes(goProof, path), "%s: differs from tlog.ProveRecord(%d, %d)", rel, t.N, index)
	}

	// Consistency proofs, with tlog.CheckTree, and compared with tlog.ProveTree.
	names, err = v.list("consistency")
	if err != nil {
		return err
	}
	c.check(len(names) >= 5, "only %d consistency proofs", len(names))
	for _, rel := range names {
		b, err := v.read(rel)
		if err != nil {
			return err
		}
		head, rest, ok := strings.Cut(string(b), "\n\n")
		lines := strings.Split(head, "\n")
		if !c.check(ok && strings.HasPrefix(lines[0], "old "), "%s: not an add-checkpoint body", rel) {
			continue
		}
		old, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "old "), 10, 64)
		if !c.check(err == nil && "old "+strconv.FormatInt(old, 10) == lines[0], "%s: bad %q", rel, lines[0]) {
			continue
		}
		proof, err := parseHashLines(lines[1:])
		if !c.check(err == nil, "%s: %v", rel, err) {
			continue
		}
		_, t, ok := v.open(rel, []byte(rest))
		if !ok {
			continue
		}
		oldTree, known := trees[old]
		if !c.check(known && trees[t.N] == t, "%s: from %d to %d, not both verified checkpoints", rel, old, t.N) {
			continue
		}
		if err := tlog.CheckTree(proof, t.N, t.Hash, oldTree.N, oldTree.Hash); err != nil {
			c.fail("%s: tlog.CheckTree from %d to %d: %v", rel, old, t.N, err)
		} else {
			c.passed++
		}
		goProof, err := tlog.ProveTree(t.N, old, m)
		c.check(err == nil && equalHashes(goProof, proof), "%s: differs from tlog.ProveTree(%d, %d)", rel, t.N, old)
	}
	return nil
}
