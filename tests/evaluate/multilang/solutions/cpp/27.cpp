    for (auto& ch : string) {
        ch = std::isupper(static_cast<unsigned char>(ch)) ? std::tolower(ch) : std::toupper(ch);
    }
    return string;
}
