    double low = *std::min_element(numbers.begin(), numbers.end());
    double high = *std::max_element(numbers.begin(), numbers.end());
    for (auto& x : numbers) x = (x - low) / (high - low);
    return numbers;
}
