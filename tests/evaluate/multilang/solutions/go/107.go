	even, odd := 0, 0
	for i := 1; i <= n; i++ {
		s := strconv.Itoa(i)
		palindrome := true
		for j := 0; j < len(s)/2; j++ {
			if s[j] != s[len(s)-1-j] {
				palindrome = false
			}
		}
		if palindrome && i%2 == 0 {
			even++
		} else if palindrome {
			odd++
		}
	}
	return []int{even, odd}
}
