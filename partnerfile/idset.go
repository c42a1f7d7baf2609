package partnerfile

import "hash/maphash"

// IDSet remembers partner IDs with the line each was first seen on, to find
// the duplicates of a file of millions of rows.
//
// A map[string]int does the same, but every key is a pointer the garbage
// collector follows at each cycle and rehashes as the map grows: for a
// 1,000,000-row import the three such maps it kept (reader, starter, store)
// cost ~4 s of the client's ~7 s of CPU (pprof: map growth, probing and
// marking). IDSet keeps the IDs in one
// byte slice and indexes them by a 64-bit hash in a pointer-free map, so
// marking it is free; IDs whose hashes collide are told apart by their bytes.
//
// The zero value is an empty set. An IDSet is not safe for concurrent use.
type IDSet struct {
	seed  maphash.Seed
	index map[uint64]int // hash of an ID -> its entry (the newest, if several share the hash)
	ids   []byte         // every ID, back to back
	end   []int          // entry i's ID is ids[end[i-1]:end[i]]
	line  []int          // the line entry i was first seen on
	next  []int          // the previous entry with the same hash, or -1

	hash func(string) uint64 // tests force collisions with it; nil: maphash
}

// Add records id as seen on line, unless it was seen before: then it returns
// the line it was first seen on and true, and records nothing.
func (s *IDSet) Add(id string, line int) (first int, dup bool) {
	if s.index == nil {
		s.seed = maphash.MakeSeed()
		s.index = make(map[uint64]int)
	}
	var h uint64
	if s.hash != nil {
		h = s.hash(id)
	} else {
		h = maphash.String(s.seed, id)
	}
	head, found := s.index[h]
	if found {
		for i := head; i >= 0; i = s.next[i] {
			if string(s.id(i)) == id {
				return s.line[i], true
			}
		}
	} else {
		head = -1
	}
	s.ids = append(s.ids, id...)
	s.end = append(s.end, len(s.ids))
	s.line = append(s.line, line)
	s.next = append(s.next, head)
	s.index[h] = len(s.line) - 1
	return 0, false
}

// Len is how many distinct IDs the set holds.
func (s *IDSet) Len() int { return len(s.line) }

// id is entry i's ID; string(s.id(i)) == x does not allocate.
func (s *IDSet) id(i int) []byte {
	start := 0
	if i > 0 {
		start = s.end[i-1]
	}
	return s.ids[start:s.end[i]]
}
