	low, high := numbers[0], numbers[0]
	for _, x := range numbers {
		low = math.Min(low, x)
		high = math.Max(high, x)
	}
	out := make([]float64, len(numbers))
	for i, x := range numbers {
		out[i] = (x - low) / (high - low)
	}
	return out
}
