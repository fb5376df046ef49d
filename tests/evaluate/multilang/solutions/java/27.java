        StringBuilder out = new StringBuilder();
        for (char ch : string.toCharArray()) {
            out.append(Character.isUpperCase(ch) ? Character.toLowerCase(ch) : Character.toUpperCase(ch));
        }
        return out.toString();
    }
}
