	var kept []string
	for _, s := range lst {
		if len(s)%2 == 0 {
			kept = append(kept, s)
		}
	}
	sort.Slice(kept, func(i, j int) bool {
		if len(kept[i]) != len(kept[j]) {
			return len(kept[i]) < len(kept[j])
		}
		return kept[i] < kept[j]
	})
	return kept
}
