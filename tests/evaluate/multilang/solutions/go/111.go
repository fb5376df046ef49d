	counts := map[string]int{}
	for _, word := range strings.Fields(test) {
		counts[word]++
	}
	most := 0
	for _, n := range counts {
		if n > most {
			most = n
		}
	}
	result := map[string]int{}
	for letter, n := range counts {
		if n == most {
			result[letter] = n
		}
	}
	return result
}
