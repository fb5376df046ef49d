	var found [][]int
	for r, row := range lst {
		for c := len(row) - 1; c >= 0; c-- {
			if row[c] == x {
				found = append(found, []int{r, c})
			}
		}
	}
	return found
}
