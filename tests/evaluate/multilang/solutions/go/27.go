	var out strings.Builder
	for _, ch := range string_ {
		if strings.ToUpper(string(ch)) == string(ch) {
			out.WriteString(strings.ToLower(string(ch)))
		} else {
			out.WriteString(strings.ToUpper(string(ch)))
		}
	}
	return out.String()
}
