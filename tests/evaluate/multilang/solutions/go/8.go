	sum, product := 0, 1
	for _, n := range numbers {
		sum += n
		product *= n
	}
	return []int{sum, product}
}
